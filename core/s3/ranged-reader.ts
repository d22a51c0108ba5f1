/**
 * Parallel ranged GETs (`bytes=a-b`, never suffix ranges) of [from, size), into the sink strictly
 * in order, in constant memory. Each part in flight owns one of `concurrency` buffers of `partSize`
 * bytes, allocated once and reused (retained network chunks get promoted by the GC, and collecting
 * them cost more CPU than hashing): bytes the sink is not at yet wait there, bytes it is at go
 * straight to it. Buffers go to parts in order, so the sink's part never starves.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { fetchPart, type ObjectReadTarget, type ReadSession } from './object-get';
import type { ChunkSink } from './stream-probe';

/** After this many bytes handed to the sink in one go, let the event loop poll the sockets. */
const YIELD_EVERY_BYTES = 1024 * 1024;

interface Part {
  index: number;
  length: number;
  /** The buffer this part's bytes wait in; granted once its headers are in and a buffer is free. */
  slot: Buffer | undefined;
  /** Bytes received (copied into the slot or passed straight to the sink). */
  filled: number;
  /** Bytes handed to the sink. */
  consumed: number;
  done: boolean;
}

export class RangedReader {
  private readonly partCount: number;
  private readonly free: Buffer[] = [];
  /** Requests are opened up to one round of buffers ahead: their first-byte latency passes while earlier parts stream. */
  private readonly maxAhead: number;
  private readonly parts = new Map<number, Part>();
  /** Parts whose headers are in, waiting for a buffer. */
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  /** The part the sink is at. */
  private current = 0;
  /** The next part to request. */
  private next = 0;
  private nextGrant = 0;

  constructor(
    private readonly s3: S3Client,
    private readonly target: ObjectReadTarget,
    private readonly session: ReadSession,
    private readonly sink: ChunkSink,
    private readonly from: number,
    private readonly partSize: number,
    concurrency: number,
  ) {
    this.partCount = Math.ceil((target.size - from) / partSize);
    for (let i = 0; i < Math.min(concurrency, this.partCount); i++) this.free.push(Buffer.allocUnsafe(partSize));
    this.maxAhead = 2 * this.free.length;
    session.signal.addEventListener(
      'abort',
      () => {
        for (const w of this.waiting.values()) w.reject(session.signal.reason);
        this.waiting.clear();
      },
      { once: true },
    );
  }

  /** Hands every byte to the sink; rejects with the session's first failure. */
  async read(): Promise<void> {
    this.launch();
    let sinceYield = 0;
    while (this.current < this.partCount) {
      this.session.throwIfFailed();
      const part = this.parts.get(this.current)!;
      if (part.consumed < part.filled) {
        sinceYield += part.filled - part.consumed;
        this.sink(part.slot!.subarray(part.consumed, part.filled));
        part.consumed = part.filled;
      }
      if (!part.done || part.consumed !== part.length) {
        await this.session.sleep(); // everything received so far is consumed: wait for more
        continue;
      }
      this.parts.delete(this.current);
      this.free.push(part.slot!);
      this.current++;
      this.grant();
      this.launch();
      // Handing buffered parts to the sink runs without I/O in between; let the sockets be read.
      if (sinceYield >= YIELD_EVERY_BYTES) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  private grant(): void {
    while (this.free.length > 0 && this.waiting.has(this.nextGrant)) {
      const { resolve } = this.waiting.get(this.nextGrant)!;
      this.waiting.delete(this.nextGrant);
      this.parts.get(this.nextGrant)!.slot = this.free.pop()!;
      this.nextGrant++;
      resolve();
    }
  }

  private launch(): void {
    while (this.next < this.partCount && this.next < this.current + this.maxAhead) this.request(this.next++);
  }

  private request(index: number): void {
    const start = this.from + index * this.partSize;
    const part: Part = { index, length: Math.min(this.partSize, this.target.size - start), slot: undefined, filled: 0, consumed: 0, done: false };
    this.parts.set(index, part);
    const bufferGranted = () =>
      new Promise<void>((resolve, reject) => {
        if (this.session.signal.aborted) return reject(this.session.signal.reason);
        this.waiting.set(index, { resolve, reject });
        this.grant();
      });
    fetchPart(this.s3, this.target, { start, length: part.length, ranged: true }, this.session.signal, bufferGranted, (chunk) => this.receive(part, chunk))
      .then(() => {
        part.done = true;
        this.session.notify();
      })
      .catch(this.session.fail);
  }

  private receive(part: Part, chunk: Uint8Array): void {
    if (part.index === this.current && part.consumed === part.filled) {
      // The sink is waiting for exactly these bytes: no copy.
      this.sink(chunk);
      part.consumed += chunk.byteLength;
    } else {
      part.slot!.set(chunk, part.filled);
    }
    part.filled += chunk.byteLength;
    this.session.notify();
  }
}
