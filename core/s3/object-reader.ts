/**
 * Reads exactly the bytes an event announced, in order, into a synchronous sink, in constant memory:
 * one GET of the whole object while it runs fast, parallel ranged GETs for the rest once it measures
 * slow (docs/object-to-shadow.md). A response other than the announced bytes is `S3ObjectChangedError`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ReadSession, type ObjectReadTarget } from './object-get';
import { RangedReader } from './ranged-reader';
import { streamHead, type ChunkSink, type Probe, type ReadMode } from './stream-probe';

export type { ObjectReadTarget } from './object-get';
export type { ChunkSink, ReadMode } from './stream-probe';

export interface ReadOptions {
  partSizeBytes: number;
  concurrency: number;
  /** MiB/s (default 200). */
  parallelBelowMiBPerS?: number;
  /** Default 250 ms. */
  probeMs?: number;
  /** Milliseconds, monotonic (default `performance.now`). */
  now?: () => number;
  signal?: AbortSignal;
  /** Told once how the object is read (for logs and tests). */
  onMode?: (mode: ReadMode) => void;
}

/**
 * Read the object's bytes, strictly in order, into `sink`. Resolves with the byte count. The chunk
 * is only valid during the call (its memory is reused afterwards): use it synchronously (e.g.
 * `hash.update`) or copy it.
 */
export async function readObject(s3: S3Client, target: ObjectReadTarget, options: ReadOptions, sink: ChunkSink): Promise<number> {
  const session = new ReadSession(target, options.signal, options.concurrency);
  const partSize = Math.max(1, options.partSizeBytes);
  const threshold = options.parallelBelowMiBPerS ?? 200;
  const ranged = (from: number) => new RangedReader(s3, target, session, sink, from, partSize, options.concurrency).read();
  try {
    session.throwIfFailed();
    // One request (an empty object too: the GET proves it exists and is the announced one).
    if (target.size <= partSize || options.concurrency <= 1 || threshold <= 0) {
      options.onMode?.({ mode: 'single' });
      await streamHead(s3, target, session, sink, undefined).catch(session.fail);
    } else if (threshold === Infinity) {
      options.onMode?.({ mode: 'ranged' });
      await ranged(0).catch(session.fail);
    } else {
      const probe: Probe = {
        partSize,
        threshold,
        probeMs: options.probeMs ?? 250,
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
