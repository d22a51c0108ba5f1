/**
 * Reads exactly the bytes an event announced, in order, as a stream of chunks, in constant memory.
 *
 * Small objects are one GET. Larger ones are split into parts fetched as parallel ranged GETs
 * (`bytes=a-b`, never suffix ranges), at most `concurrency` at once; the consumer receives the
 * parts strictly in order, the head part chunk by chunk as it arrives, so the hash runs while the
 * later parts download. A part is fetched only when a slot frees up (the consumer finished an
 * earlier part), so at most `concurrency × partSize` bytes are ever buffered: backpressure.
 *
 * Every response is pinned to the announced bytes: `VersionId` when the event has one, otherwise
 * `If-Match` on its eTag (and the response's ETag is checked too, since some S3-compatible
 * servers ignore If-Match). A mismatch means the key was overwritten since: `S3ObjectChangedError`.
 */
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

type Chunk = Uint8Array;

const YIELD_EVERY_BYTES = 1024 * 1024;

/** One part's bytes as they arrive; consumed (and freed) in order by the reader's caller. */
class PartBuffer {
  private chunks: Chunk[] = [];
  private done = false;
  private error: unknown;
  private wake: (() => void) | undefined;

  push(chunk: Chunk): void {
    this.chunks.push(chunk);
    this.notify();
  }
  end(): void {
    this.done = true;
    this.notify();
  }
  fail(err: unknown): void {
    if (this.error === undefined) this.error = err ?? new Error('part failed');
    this.notify();
  }
  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
  async *drain(): AsyncGenerator<Chunk> {
    let sinceYield = 0;
    for (;;) {
      if (this.error !== undefined) throw this.error;
      const chunk = this.chunks.shift();
      if (chunk) {
        yield chunk;
        // Buffered chunks come back as microtasks, which starve socket I/O: hashing a buffered
        // part would stall every download under way. Let the event loop poll now and then.
        sinceYield += chunk.byteLength;
        if (sinceYield >= YIELD_EVERY_BYTES) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}

function pinned(target: ObjectReadTarget, range?: string): GetObjectCommandInput {
  const input: GetObjectCommandInput = { Bucket: target.bucket, Key: target.key };
  if (target.versionId !== undefined) input.VersionId = target.versionId;
  else if (target.eTag !== undefined) input.IfMatch = `"${target.eTag}"`;
  if (range !== undefined) input.Range = range;
  return input;
}

/** Fetch one GET (whole or ranged) into `sink`, checking its ETag and exact length. */
async function fetchInto(
  s3: S3Client,
  target: ObjectReadTarget,
  sink: PartBuffer,
  part: { start: number; length: number; ranged: boolean },
  signal: AbortSignal,
  onFailure: (err: unknown) => void,
): Promise<void> {
  const { start, length, ranged } = part;
  const { bucket, key } = target;
  try {
    const range = ranged ? `bytes=${start}-${start + length - 1}` : undefined;
    const res = await s3.send(new GetObjectCommand(pinned(target, range)), { abortSignal: signal });
    if (target.eTag !== undefined && res.ETag !== undefined && stripQuotes(res.ETag) !== target.eTag) {
      // Drain nothing: destroy the body so the socket is released.
      (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new S3ObjectChangedError(bucket, key, `ETag is ${stripQuotes(res.ETag)}, the event announced ${target.eTag}`);
    }
    const body = res.Body as AsyncIterable<Chunk> | undefined;
    if (!body) throw new S3ReadError(bucket, key, 'GetObject returned no body');
    let received = 0;
    for await (const chunk of body) {
      received += chunk.byteLength;
      if (received > length) throw new S3ReadError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned more than ${length} bytes`);
      sink.push(chunk);
    }
    if (received !== length) {
      // Whole-object read of a different length than announced: the object changed under us.
      if (!ranged && target.versionId === undefined) throw new S3ObjectChangedError(bucket, key, `size is ${received}, the event announced ${length}`);
      throw new S3ReadError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned ${received} of ${length} bytes`);
    }
    sink.end();
  } catch (err) {
    // After an abort the error is only the abort's echo; the first real failure is reported.
    const mapped = signal.aborted ? err : mapS3Error(err, bucket, key);
    if (!signal.aborted) onFailure(mapped);
    sink.fail(mapped);
  }
}

/** The object's bytes, strictly in order. Stop iterating early and every request is aborted. */
export async function* readObjectChunks(s3: S3Client, target: ObjectReadTarget, options: ReadOptions): AsyncGenerator<Chunk> {
  const abort = new AbortController();
  let failure: unknown;
  const onFailure = (err: unknown) => {
    if (failure !== undefined) return;
    failure = err;
    abort.abort(err); // one part failed: the others are wasted work
  };
  const onOuterAbort = () => abort.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    const { size } = target;
    const partSize = Math.max(1, options.partSizeBytes);
    if (size <= partSize) {
      // One request. An empty object too: the GET still proves it exists and is the announced one.
      const only = new PartBuffer();
      void fetchInto(s3, target, only, { start: 0, length: size, ranged: false }, abort.signal, onFailure);
      yield* only.drain();
      return;
    }
    const partCount = Math.ceil(size / partSize);
    const parts: PartBuffer[] = [];
    let next = 0;
    const launch = () => {
      const index = next++;
      const start = index * partSize;
      const buffer = new PartBuffer();
      parts[index] = buffer;
      void fetchInto(s3, target, buffer, { start, length: Math.min(partSize, size - start), ranged: true }, abort.signal, onFailure);
    };
    while (next < partCount && next < options.concurrency) launch();
    for (let i = 0; i < partCount; i++) {
      try {
        yield* parts[i]!.drain();
      } catch (err) {
        throw failure ?? err;
      }
      parts[i] = undefined as unknown as PartBuffer; // free it
      if (next < partCount) launch();
    }
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Finished, failed or abandoned: no request may outlive the reader.
    abort.abort();
  }
}
