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
 * Ranged reads (`bytes=a-b`, never suffix ranges) are at most `concurrency` at once. Each part in
 * flight owns one of `concurrency` slot buffers of `partSize` bytes, allocated once and reused:
 * bytes of a part the sink is not at yet are copied into its slot; bytes of the part the sink is at
 * go straight to the sink. A new part is requested only when the sink has taken every byte of an
 * earlier one and its slot is free, so memory is `concurrency × partSize` whatever the object's size
 * (backpressure). Reusing slots instead of keeping the network's chunks matters: retained chunks get
 * promoted by the GC, and collecting them cost more CPU than hashing. The single stream holds nothing.
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
  /**
   * A first stream slower than this (MiB/s, network time only) hands the rest over to parallel
   * ranged GETs. Default `DEFAULT_PARALLEL_BELOW_MIB_PER_S`. `0`: one stream; `Infinity`: ranged from byte 0.
   */
  parallelBelowMiBPerS?: number;
  /** The longest the first stream is measured before deciding. Default 250 ms. */
  probeMs?: number;
  signal?: AbortSignal;
  /** Told once how the object is read (for logs and tests). */
  onMode?: (mode: ReadMode) => void;
}

/** How an object was read. */
export interface ReadMode {
  /** `single`: one GET to the end; `switched`: one GET up to `switchedAt`, then ranged GETs; `ranged`: ranged from byte 0. */
  mode: 'single' | 'switched' | 'ranged';
  /** Where the single stream stopped and the ranged reads began (`switched` only). */
  switchedAt?: number;
  /** The first stream's measured rate (absent when nothing was measured). */
  mibPerS?: number;
}

export const DEFAULT_PARALLEL_BELOW_MIB_PER_S = 200;
export const DEFAULT_PROBE_MS = 250;
const MiB = 1024 * 1024;

/**
 * Receives the object's bytes in order. The chunk is only valid during the call (its memory is
 * reused afterwards): use it synchronously (e.g. `hash.update`) or copy it.
 */
export type ChunkSink = (chunk: Uint8Array) => void;

/** After this many bytes handed to the sink in one go, let the event loop poll the sockets. */
const YIELD_EVERY_BYTES = 1024 * 1024;

type Body = AsyncIterable<Uint8Array> & { destroy?: (err?: unknown) => void };

function pinned(target: ObjectReadTarget, range?: string): GetObjectCommandInput {
  const input: GetObjectCommandInput = { Bucket: target.bucket, Key: target.key };
  if (target.versionId !== undefined) input.VersionId = target.versionId;
  else if (target.eTag !== undefined) input.IfMatch = `"${target.eTag}"`;
  if (range !== undefined) input.Range = range;
  return input;
}

/** Sends one GET (whole or ranged) and checks its ETag; resolves with the unread body. */
async function openGet(s3: S3Client, target: ObjectReadTarget, range: string | undefined, signal: AbortSignal): Promise<Body> {
  const { bucket, key } = target;
  const res = await s3.send(new GetObjectCommand(pinned(target, range)), { abortSignal: signal });
  const body = res.Body as Body | undefined;
  if (target.eTag !== undefined && res.ETag !== undefined && stripQuotes(res.ETag) !== target.eTag) {
    body?.destroy?.(); // release the socket without reading
    throw new S3ObjectChangedError(bucket, key, `ETag is ${stripQuotes(res.ETag)}, the event announced ${target.eTag}`);
  }
  if (!body) throw new S3ReadError(bucket, key, 'GetObject returned no body');
  return body;
}

/** A body that ended at `received` bytes instead of `length`. */
function shortRead(target: ObjectReadTarget, ranged: boolean, start: number, received: number, length: number): Error {
  const { bucket, key } = target;
  // A whole-object read of another length than announced: the object changed under us.
  if (!ranged && target.versionId === undefined) return new S3ObjectChangedError(bucket, key, `size is ${received}, the event announced ${length}`);
  return new S3ReadError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned ${received} of ${length} bytes`);
}

function tooLong(target: ObjectReadTarget, ranged: boolean, start: number, length: number): Error {
  return new S3ReadError(target.bucket, target.key, `${ranged ? `range at ${start}` : 'object'} returned more than ${length} bytes`);
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
  const { start, length, ranged } = part;
  const body = await openGet(s3, target, ranged ? `bytes=${start}-${start + length - 1}` : undefined, signal);
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
    if (received > length) throw tooLong(target, ranged, start, length);
    onData(chunk);
  }
  if (received !== length) throw shortRead(target, ranged, start, received, length);
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
  // One signal is shared by every request of the read (up to 1 + 2 × concurrency at once), on purpose.
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
  if (options.signal?.aborted) onOuterAbort();
  const sleep = () => new Promise<void>((resolve) => (wake = resolve));
  const partSize = Math.max(1, options.partSizeBytes);
  const threshold = options.parallelBelowMiBPerS ?? DEFAULT_PARALLEL_BELOW_MIB_PER_S;
  const probeMs = options.probeMs ?? DEFAULT_PROBE_MS;

  /**
   * One GET of the whole object, straight into the sink. With `probe`, its rate is measured until
   * `partSize` bytes or `probeMs`; when slower than `threshold` it stops there (the body is
   * destroyed) and resolves with the offset reached, else it reads to the end and resolves with `size`.
   */
  const streamHead = async (probe: boolean): Promise<number> => {
    const body = await openGet(s3, target, undefined, abort.signal);
    // The SDK's own abort handling may not reach a body already being read: end it here too.
    const destroyBody = () => body.destroy?.(abort.signal.reason);
    abort.signal.addEventListener('abort', destroyBody, { once: true });
    const started = performance.now();
    let pos = 0;
    let sinkMs = 0;
    let probing = probe;
    try {
      for await (const chunk of body) {
        if (failure !== undefined) throw failure;
        if (pos + chunk.byteLength > size) throw tooLong(target, false, 0, size);
        if (!probing) {
          sink(chunk);
          pos += chunk.byteLength;
          continue;
        }
        // The window closes at exactly `partSize` bytes: a chunk straddling it is cut there.
        const piece = pos + chunk.byteLength > partSize ? chunk.subarray(0, partSize - pos) : chunk;
        const t = performance.now();
        sink(piece);
        sinkMs += performance.now() - t;
        pos += piece.byteLength;
        const elapsed = performance.now() - started;
        if (pos < partSize && elapsed < probeMs) continue;
        probing = false;
        // Network time only: a slow sink is not a slow connection, and more connections would not help it.
        const mibPerS = pos / MiB / (Math.max(elapsed - sinkMs, 0.01) / 1000);
        if (mibPerS < threshold) {
          options.onMode?.({ mode: 'switched', switchedAt: pos, mibPerS });
          return pos; // leaving the loop destroys the body: the rest of this request is never read
        }
        options.onMode?.({ mode: 'single', mibPerS });
        if (piece !== chunk) {
          sink(chunk.subarray(piece.byteLength));
          pos = pos - piece.byteLength + chunk.byteLength;
        }
      }
    } finally {
      abort.signal.removeEventListener('abort', destroyBody);
    }
    if (failure !== undefined) throw failure;
    if (pos !== size) throw shortRead(target, false, 0, pos, size);
    return pos;
  };

  /** Parallel ranged GETs of [from, size), into the sink strictly in order. */
  const readRanges = async (from: number): Promise<void> => {
    const partCount = Math.ceil((size - from) / partSize);
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
        const start = from + index * partSize;
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
  };

  try {
    if (failure !== undefined) throw failure;
    if (size <= partSize) {
      // One request (an empty object too: the GET proves it exists and is the announced one).
      options.onMode?.({ mode: 'single' });
      let received = 0;
      await fetchPart(s3, target, { start: 0, length: size, ranged: false }, abort.signal, undefined, (chunk) => {
        received += chunk.byteLength;
        sink(chunk);
      }).catch(fail);
      if (failure !== undefined) throw failure;
      return received;
    }
    const oneStream = options.concurrency <= 1 || threshold <= 0;
    if (!oneStream && threshold === Infinity) {
      options.onMode?.({ mode: 'ranged' });
      await readRanges(0).catch(fail);
    } else {
      if (oneStream) options.onMode?.({ mode: 'single' });
      const reached = await streamHead(!oneStream).catch((err: unknown) => {
        fail(err);
        return size;
      });
      if (failure === undefined && reached < size) await readRanges(reached).catch(fail);
    }
    if (failure !== undefined) throw failure;
    return size;
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Finished, failed or abandoned: no request may outlive the reader.
    abort.abort();
  }
}
