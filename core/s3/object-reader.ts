/**
 * Reads exactly the bytes an event announced, in order, into a synchronous sink, in constant memory.
 *
 * Adaptive: the read starts as ONE GET of the whole object, each chunk handed to the sink as it
 * arrives (no copy). Its throughput is measured over a short window: until `partSize` bytes have
 * been hashed or `probeMs` (250 ms) has passed, whichever comes first. The rate counts only the
 * time the reader spent waiting for the network (time inside the sink is subtracted), so a slow
 * hash (a small Lambda) is not mistaken for a slow connection: parallel reads cannot help a hash
 * that is the bottleneck. When the stream delivers at least `parallelBelowMiBPerS` (200 MiB/s), it
 * is read to the end: on a fast connection more requests, copies and reassembly cost more than they
 * save. When it is slower (a Lambda in its region sees ~90 MB/s per connection), the stream is
 * stopped at a clean offset — exactly `partSize` when the window closed on bytes (a chunk straddling
 * it is cut there), otherwise wherever the window closed — and its body destroyed; the REST is read
 * as parallel ranged GETs from that offset, into the same sink, strictly in order.
 * `parallelBelowMiBPerS: 0` or `concurrency: 1` force one stream; `Infinity` ranged from the start.
 * Objects up to one part are always one GET.
 *
 * Ranged reads (`bytes=a-b`, never suffix ranges; ranged-reader.ts) are at most `concurrency` at
 * once, in `concurrency × partSize` bytes of memory whatever the object's size; the single stream
 * (stream-probe.ts) holds nothing. Every response is pinned to the announced bytes (object-get.ts):
 * a mismatch means the key was overwritten since: `S3ObjectChangedError`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectReadTarget } from './object-get';
import { RangedReader } from './ranged-reader';
import { ReadSession } from './read-session';
import { streamHead, type ChunkSink, type Probe, type ReadMode } from './stream-probe';

export type { ObjectReadTarget } from './object-get';
export type { ChunkSink, ReadMode } from './stream-probe';

export interface ReadOptions {
  partSizeBytes: number;
  concurrency: number;
  /**
   * A first stream slower than this (MiB/s, network time only) hands the rest over to parallel
   * ranged GETs. Default `DEFAULT_PARALLEL_BELOW_MIB_PER_S`. `0`: one stream; `Infinity`: ranged from byte 0.
   */
  parallelBelowMiBPerS?: number;
  /** The longest the first stream is measured before deciding. Default 250 ms. */
  probeMs?: number;
  /** The clock the first stream is measured with (milliseconds, monotonic). Default `performance.now`. */
  now?: () => number;
  signal?: AbortSignal;
  /** Told once how the object is read (for logs and tests). */
  onMode?: (mode: ReadMode) => void;
}

export const DEFAULT_PARALLEL_BELOW_MIB_PER_S = 200;
export const DEFAULT_PROBE_MS = 250;

/**
 * Read the object's bytes, strictly in order, into `sink`. Resolves with the byte count. The chunk
 * is only valid during the call (its memory is reused afterwards): use it synchronously (e.g.
 * `hash.update`) or copy it.
 */
export async function readObject(s3: S3Client, target: ObjectReadTarget, options: ReadOptions, sink: ChunkSink): Promise<number> {
  const session = new ReadSession(target, options.signal, options.concurrency);
  const partSize = Math.max(1, options.partSizeBytes);
  const threshold = options.parallelBelowMiBPerS ?? DEFAULT_PARALLEL_BELOW_MIB_PER_S;
  const ranged = (from: number) => new RangedReader(s3, target, session, sink, from, partSize, options.concurrency).read();
  try {
    session.throwIfFailed();
    if (target.size <= partSize) {
      // One request (an empty object too: the GET proves it exists and is the announced one).
      options.onMode?.({ mode: 'single' });
      await streamHead(s3, target, session, sink, undefined).catch(session.fail);
    } else if (options.concurrency <= 1 || threshold <= 0) {
      options.onMode?.({ mode: 'single' });
      await streamHead(s3, target, session, sink, undefined).catch(session.fail);
    } else if (threshold === Infinity) {
      options.onMode?.({ mode: 'ranged' });
      await ranged(0).catch(session.fail);
    } else {
      const probe: Probe = {
        partSize,
        threshold,
        probeMs: options.probeMs ?? DEFAULT_PROBE_MS,
        now: options.now ?? (() => performance.now()),
        ...(options.onMode ? { onMode: options.onMode } : {}),
      };
      const reached = await streamHead(s3, target, session, sink, probe).catch((err: unknown) => {
        session.fail(err);
        return target.size;
      });
      if (!session.failed && reached < target.size) await ranged(reached).catch(session.fail);
    }
    session.throwIfFailed();
    return target.size;
  } finally {
    session.close();
  }
}
