/** Shared bits of the agent tests: deterministic object bytes and their hashes. */
import { createHash } from 'node:crypto';

/** `size` bytes of a repeatable pattern that differs per `seed`. */
export function objectBytes(size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    buf.writeUInt32LE(x, Math.min(i, size - 4) === i ? i : size - 4);
  }
  return buf;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * An `onProgress` that resolves `reached` once the download has received `bytes` of the body:
 * what a test waits for before cutting a connection, instead of sleeping and hoping the bytes
 * were read by then.
 */
export function progressReaching(bytes: number): { onProgress: (received: number) => void; reached: Promise<void> } {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  return { onProgress: (received) => void (received >= bytes && resolve()), reached };
}
