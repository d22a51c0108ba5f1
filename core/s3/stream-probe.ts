/**
 * The first stream of an adaptive read: one GET of the whole object, straight into the sink. With a
 * probe, its network rate (time inside the sink subtracted) is measured until `partSize` bytes or
 * `probeMs`; slower than `threshold`, it stops there and resolves with the offset reached.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { openGet, shortRead, tooLong, type ObjectReadTarget, type ReadSession } from './object-get';

const MiB = 1024 * 1024;

/** How an object was read. */
export interface ReadMode {
  /** `single`: one GET to the end; `switched`: one GET up to `switchedAt`, then ranged GETs; `ranged`: ranged from byte 0. */
  mode: 'single' | 'switched' | 'ranged';
  /** Where the single stream stopped and the ranged reads began (`switched` only). */
  switchedAt?: number;
  /** The first stream's measured rate (absent when nothing was measured). */
  mibPerS?: number;
}

export type ChunkSink = (chunk: Uint8Array) => void;

export interface Probe {
  partSize: number;
  /** MiB/s of network time below which the stream hands over to ranged GETs. */
  threshold: number;
  probeMs: number;
  /** Milliseconds from a monotonic clock. */
  now: () => number;
  onMode?: (mode: ReadMode) => void;
}

/** Resolves with the offset reached: `size` when read to the end, less when it handed over. */
export async function streamHead(s3: S3Client, target: ObjectReadTarget, session: ReadSession, sink: ChunkSink, probe: Probe | undefined): Promise<number> {
  const { size } = target;
  const body = await openGet(s3, target, undefined, session.signal);
  // The SDK's own abort handling may not reach a body already being read: end it here too.
  const destroyBody = () => body.destroy?.(session.signal.reason);
  session.signal.addEventListener('abort', destroyBody, { once: true });
  const started = probe?.now() ?? 0;
  /** Time inside the sink, kept out of the network time. */
  let sinkMs = 0;
  let pos = 0;
  let probing = probe !== undefined;
  try {
    for await (const chunk of body) {
      session.throwIfFailed();
      if (pos + chunk.byteLength > size) throw tooLong(target, false, 0, size);
      if (!probing || !probe) {
        sink(chunk);
        pos += chunk.byteLength;
        continue;
      }
      // The window closes at exactly `partSize` bytes: a chunk straddling it is cut there.
      const piece = pos + chunk.byteLength > probe.partSize ? chunk.subarray(0, probe.partSize - pos) : chunk;
      const t = probe.now();
      sink(piece);
      sinkMs += probe.now() - t;
      pos += piece.byteLength;
      if (pos < probe.partSize && probe.now() - started < probe.probeMs) continue;
      probing = false;
      const mibPerS = pos / MiB / (Math.max(probe.now() - started - sinkMs, 0.01) / 1000);
      if (mibPerS < probe.threshold) {
        probe.onMode?.({ mode: 'switched', switchedAt: pos, mibPerS });
        return pos; // leaving the loop destroys the body: the rest of this request is never read
      }
      probe.onMode?.({ mode: 'single', mibPerS });
      if (piece !== chunk) {
        sink(chunk.subarray(piece.byteLength));
        pos = pos - piece.byteLength + chunk.byteLength;
      }
    }
  } finally {
    session.signal.removeEventListener('abort', destroyBody);
  }
  session.throwIfFailed();
  if (pos !== size) throw shortRead(target, false, 0, pos, size);
  return pos;
}
