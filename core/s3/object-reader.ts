/**
 * Reads exactly the bytes an event announced, in order, into a synchronous sink, in constant memory.
 *
 * Small objects are one GET, passed to the sink as they arrive. Larger ones are split into parts
 * fetched as parallel ranged GETs (`bytes=a-b`, never suffix ranges), at most `concurrency` at
 * once. Each part in flight owns one of `concurrency` slot buffers of `partSize` bytes, allocated
 * once and reused: bytes of a part the sink is not at yet are copied into its slot; bytes of the
 * part the sink is at go straight to the sink. A new part is requested only when the sink has
 * taken every byte of an earlier one and its slot is free, so memory is `concurrency × partSize`
 * whatever the object's size (backpressure). Reusing slots instead of keeping the network's chunks
 * matters: retained chunks get promoted by the GC, and collecting them cost more CPU than hashing.
 *
 * Every response is pinned to the announced bytes: `VersionId` when the event has one, otherwise
 * `If-Match` on its eTag (and the response's ETag is checked too, since some S3-compatible
 * servers ignore If-Match). A mismatch means the key was overwritten since: `S3ObjectChangedError`.
 */
import { setMaxListeners } from 'node:events';
import { GetObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectChangedError, S3ReadError } from './errors';
import { stripQuotes } from './event';
import { mapS3Error } from './s3-errors';

export interface ObjectReadTarget {
  bucket: string;
  key: string;
  /** The announced size; the reader fails if the object has more or fewer bytes. */
  size: number;
  versionId?: string;
  /** Unquoted; used for If-Match when there is no versionId. */
  eTag?: string;
}

export interface ReadOptions {
  partSizeBytes: number;
  concurrency: number;
  signal?: AbortSignal;
}

/**
 * Receives the object's bytes in order. The chunk is only valid during the call (its memory is
 * reused afterwards): use it synchronously (e.g. `hash.update`) or copy it.
 */
export type ChunkSink = (chunk: Uint8Array) => void;

/** After this many bytes handed to the sink in one go, let the event loop poll the sockets. */
const YIELD_EVERY_BYTES = 1024 * 1024;

function pinned(target: ObjectReadTarget, range?: string): GetObjectCommandInput {
  const input: GetObjectCommandInput = { Bucket: target.bucket, Key: target.key };
  if (target.versionId !== undefined) input.VersionId = target.versionId;
  else if (target.eTag !== undefined) input.IfMatch = `"${target.eTag}"`;
  if (range !== undefined) input.Range = range;
  return input;
}

/** One GET (whole or ranged): checks ETag and exact length, hands each chunk to `onData`. */
async function fetchPart(
  s3: S3Client,
  target: ObjectReadTarget,
  part: { start: number; length: number; ranged: boolean },
  signal: AbortSignal,
  beforeBody: (() => Promise<void>) | undefined,
  onData: (chunk: Uint8Array) => void,
): Promise<void> {
  const { bucket, key } = target;
  const { start, length, ranged } = part;
  const range = ranged ? `bytes=${start}-${start + length - 1}` : undefined;
  const res = await s3.send(new GetObjectCommand(pinned(target, range)), { abortSignal: signal });
  const body = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (target.eTag !== undefined && res.ETag !== undefined && stripQuotes(res.ETag) !== target.eTag) {
    body?.destroy?.(); // release the socket without reading
    throw new S3ObjectChangedError(bucket, key, `ETag is ${stripQuotes(res.ETag)}, the event announced ${target.eTag}`);
  }
  if (!body) throw new S3ReadError(bucket, key, 'GetObject returned no body');
  if (beforeBody) {
    try {
      await beforeBody();
    } catch (err) {
      body.destroy?.();
      throw err;
    }
  }
  let received = 0;
  for await (const chunk of body) {
    received += chunk.byteLength;
    if (received > length) throw new S3ReadError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned more than ${length} bytes`);
    onData(chunk);
  }
  if (received !== length) {
    // A whole-object read of another length than announced: the object changed under us.
    if (!ranged && target.versionId === undefined) throw new S3ObjectChangedError(bucket, key, `size is ${received}, the event announced ${length}`);
    throw new S3ReadError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned ${received} of ${length} bytes`);
  }
}

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

/** Read the object's bytes, strictly in order, into `sink`. Resolves with the byte count. */
export async function readObject(s3: S3Client, target: ObjectReadTarget, options: ReadOptions, sink: ChunkSink): Promise<number> {
  const { bucket, key, size } = target;
  const abort = new AbortController();
  // One signal is shared by every request of the read (up to 2 × concurrency at once), on purpose.
  setMaxListeners(4 * options.concurrency + 16, abort.signal);
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: unknown) => {
    if (failure === undefined && !abort.signal.aborted) {
      failure = mapS3Error(err, bucket, key);
      abort.abort(failure); // one part failed: the others are wasted work
    }
    notify();
  };
  const onOuterAbort = () => fail(options.signal?.reason ?? new Error('aborted'));
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const sleep = () => new Promise<void>((resolve) => (wake = resolve));

  try {
    const partSize = Math.max(1, options.partSizeBytes);
    if (size <= partSize) {
      // One request (an empty object too: the GET proves it exists and is the announced one).
      let received = 0;
      await fetchPart(s3, target, { start: 0, length: size, ranged: false }, abort.signal, undefined, (chunk) => {
        received += chunk.byteLength;
        sink(chunk);
      }).catch(fail);
      if (failure !== undefined) throw failure;
      return received;
    }

    const partCount = Math.ceil(size / partSize);
    const free: Buffer[] = [];
    for (let i = 0; i < Math.min(options.concurrency, partCount); i++) free.push(Buffer.allocUnsafe(partSize));
    // Requests are opened up to one round of buffers ahead: their headers (the first-byte latency)
    // arrive while earlier parts stream, and their bodies wait under TCP flow control for a buffer.
    const maxAhead = 2 * free.length;
    const parts = new Map<number, Part>();
    const waiting = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>(); // parts with headers, waiting for a buffer
    abort.signal.addEventListener(
      'abort',
      () => {
        for (const w of waiting.values()) w.reject(abort.signal.reason);
        waiting.clear();
      },
      { once: true },
    );
    let current = 0; // the part the sink is at
    let next = 0; // the next part to request
    let nextGrant = 0; // buffers go to parts strictly in order, so the sink's part never starves

    const grant = () => {
      while (free.length > 0 && waiting.has(nextGrant)) {
        const { resolve } = waiting.get(nextGrant)!;
        waiting.delete(nextGrant);
        parts.get(nextGrant)!.slot = free.pop()!;
        nextGrant++;
        resolve();
      }
    };
    const launch = () => {
      while (next < partCount && next < current + maxAhead) {
        const index = next++;
        const start = index * partSize;
        const part: Part = { index, length: Math.min(partSize, size - start), slot: undefined, filled: 0, consumed: 0, done: false };
        parts.set(index, part);
        const bufferGranted = () =>
          new Promise<void>((resolve, reject) => {
            if (abort.signal.aborted) return reject(abort.signal.reason);
            waiting.set(index, { resolve, reject });
            grant();
          });
        fetchPart(s3, target, { start, length: part.length, ranged: true }, abort.signal, bufferGranted, (chunk) => {
          if (part.index === current && part.consumed === part.filled) {
            // The sink is waiting for exactly these bytes: no copy.
            sink(chunk);
            part.consumed += chunk.byteLength;
          } else {
            part.slot!.set(chunk, part.filled);
          }
          part.filled += chunk.byteLength;
          notify();
        })
          .then(() => {
            part.done = true;
            notify();
          })
          .catch(fail);
      }
    };

    launch();
    let sinceYield = 0;
    while (current < partCount) {
      if (failure !== undefined) throw failure;
      const part = parts.get(current)!;
      if (part.consumed < part.filled) {
        const n = part.filled - part.consumed;
        sink(part.slot!.subarray(part.consumed, part.filled));
        part.consumed = part.filled;
        sinceYield += n;
      }
      if (part.done && part.consumed === part.length) {
        parts.delete(current);
        free.push(part.slot!);
        current++;
        grant();
        launch();
        // Handing buffered parts to the sink runs without I/O in between; let the sockets be read.
        if (sinceYield >= YIELD_EVERY_BYTES) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      await sleep(); // everything received so far is consumed: wait for more
    }
    return size;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Finished, failed or abandoned: no request may outlive the reader.
    abort.abort();
  }
}
