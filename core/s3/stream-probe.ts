/**
 * The first stream of an adaptive read: one GET of the whole object, straight into the sink. With
 * a probe, its rate is measured until `partSize` bytes or `probeMs`, counting only the time spent
 * waiting for the network (time inside the sink is subtracted: a slow hash is not a slow
 * connection, and more connections would not help it). Slower than `threshold`: it stops there
 * (the body is destroyed) and resolves with the offset reached; else it reads to the end.
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

/** Measures one stream's network rate while its first bytes go to the sink. */
class RateMeter {
  private readonly started: number;
  private sinkMs = 0;

  constructor(private readonly now: () => number) {
    this.started = now();
  }

  /** Runs the sink, keeping its time out of the network time. */
  timeSink(sink: ChunkSink, chunk: Uint8Array): void {
    const t = this.now();
    sink(chunk);
    this.sinkMs += this.now() - t;
  }

  elapsed(): number {
    return this.now() - this.started;
  }

  mibPerS(bytes: number): number {
    return bytes / MiB / (Math.max(this.elapsed() - this.sinkMs, 0.01) / 1000);
  }
}

/** Resolves with the offset reached: `size` when read to the end, less when it handed over. */
export async function streamHead(s3: S3Client, target: ObjectReadTarget, session: ReadSession, sink: ChunkSink, probe: Probe | undefined): Promise<number> {
  const { size } = target;
  const body = await openGet(s3, target, undefined, session.signal);
  // The SDK's own abort handling may not reach a body already being read: end it here too.
  const destroyBody = () => body.destroy?.(session.signal.reason);
  session.signal.addEventListener('abort', destroyBody, { once: true });
  const meter = probe ? new RateMeter(probe.now) : undefined;
  let pos = 0;
  let probing = probe !== undefined;
  try {
    for await (const chunk of body) {
      session.throwIfFailed();
      if (pos + chunk.byteLength > size) throw tooLong(target, false, 0, size);
      if (!probing || !probe || !meter) {
        sink(chunk);
        pos += chunk.byteLength;
        continue;
      }
      // The window closes at exactly `partSize` bytes: a chunk straddling it is cut there.
      const piece = pos + chunk.byteLength > probe.partSize ? chunk.subarray(0, probe.partSize - pos) : chunk;
      meter.timeSink(sink, piece);
      pos += piece.byteLength;
      if (pos < probe.partSize && meter.elapsed() < probe.probeMs) continue;
      probing = false;
      const mibPerS = meter.mibPerS(pos);
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
