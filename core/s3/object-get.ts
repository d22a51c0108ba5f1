/**
 * S3 reads of one key: HeadObject of what it holds now, and GetObject (whole or ranged) pinned to
 * the bytes an event announced — `VersionId` when there is one, otherwise `If-Match` on the eTag
 * (the response's ETag is checked too: some S3-compatible servers ignore If-Match) — with the
 * exact length checked as the body is read.
 */
import { setMaxListeners } from 'node:events';
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { stripQuotes } from './event';
import { mapS3Error, readError, S3ObjectChangedError, S3ObjectMissingError } from './s3-errors';
import type { SignedRelease } from '../release/manifest';

/**
 * A key's current object, or that it has none (never existed, deleted, or a delete marker).
 * `release`: the publisher's signed manifest for this version (core/release/companion-read.ts);
 * `releasePending`: it is being published, its companion on the way.
 */
export type KeyState = { exists: false } | { exists: true; size: number; eTag: string; versionId?: string; release?: SignedRelease; releasePending?: true };

/**
 * What a plain GetObject of the key returns now (HeadObject without a VersionId): the truth every
 * event is settled against, since S3 delivers events late, twice and out of order, and old
 * versions stay readable after a delete.
 */
export async function currentObject(s3: S3Client, bucket: string, key: string): Promise<KeyState> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined;
    return { exists: true, size: head.ContentLength ?? 0, eTag: stripQuotes(head.ETag ?? ''), ...(versionId ? { versionId } : {}) };
  } catch (err) {
    const mapped = mapS3Error(err, bucket, key);
    if (mapped instanceof S3ObjectMissingError) return { exists: false };
    throw mapped;
  }
}

export interface ObjectReadTarget {
  bucket: string;
  key: string;
  /** The announced size; the reader fails if the object has more or fewer bytes. */
  size: number;
  versionId?: string;
  /** Unquoted; used for If-Match when there is no versionId. */
  eTag?: string;
}

export type Body = AsyncIterable<Uint8Array> & { destroy?: (err?: unknown) => void };

export function pinned(target: ObjectReadTarget, range?: string): GetObjectCommandInput {
  const input: GetObjectCommandInput = { Bucket: target.bucket, Key: target.key };
  if (target.versionId !== undefined) input.VersionId = target.versionId;
  else if (target.eTag !== undefined) input.IfMatch = `"${target.eTag}"`;
  if (range !== undefined) input.Range = range;
  return input;
}

/** Sends one GET (whole or ranged) and checks its ETag; resolves with the unread body. */
export async function openGet(s3: S3Client, target: ObjectReadTarget, range: string | undefined, signal: AbortSignal): Promise<Body> {
  const { bucket, key } = target;
  const res = await s3.send(new GetObjectCommand(pinned(target, range)), { abortSignal: signal });
  const body = res.Body as Body | undefined;
  if (target.eTag !== undefined && res.ETag !== undefined && stripQuotes(res.ETag) !== target.eTag) {
    body?.destroy?.(); // release the socket without reading
    throw new S3ObjectChangedError(bucket, key, `ETag is ${stripQuotes(res.ETag)}, the event announced ${target.eTag}`);
  }
  if (!body) throw readError(bucket, key, 'GetObject returned no body');
  return body;
}

/** A body that ended at `received` bytes instead of `length`. */
export function shortRead(target: ObjectReadTarget, ranged: boolean, start: number, received: number, length: number): Error {
  const { bucket, key } = target;
  // A whole-object read of another length than announced: the object changed under us.
  if (!ranged && target.versionId === undefined) return new S3ObjectChangedError(bucket, key, `size is ${received}, the event announced ${length}`);
  return readError(bucket, key, `${ranged ? `range at ${start}` : 'object'} returned ${received} of ${length} bytes`);
}

export function tooLong(target: ObjectReadTarget, ranged: boolean, start: number, length: number): Error {
  return readError(target.bucket, target.key, `${ranged ? `range at ${start}` : 'object'} returned more than ${length} bytes`);
}

/** One GET (whole or ranged): checks ETag and exact length, hands each chunk to `onData`. */
export async function fetchPart(
  s3: S3Client,
  target: ObjectReadTarget,
  part: { start: number; length: number; ranged: boolean },
  signal: AbortSignal,
  beforeBody: (() => Promise<void>) | undefined,
  onData: (chunk: Uint8Array) => void,
): Promise<void> {
  const { start, length, ranged } = part;
  const body = await openGet(s3, target, ranged ? `bytes=${start}-${start + length - 1}` : undefined, signal);
  try {
    await beforeBody?.();
  } catch (err) {
    body.destroy?.();
    throw err;
  }
  let received = 0;
  for await (const chunk of body) {
    received += chunk.byteLength;
    if (received > length) throw tooLong(target, ranged, start, length);
    onData(chunk);
  }
  if (received !== length) throw shortRead(target, ranged, start, received, length);
}

/**
 * What the requests of one object read share: one abort signal (the first failure aborts every
 * other request: they are wasted work), the first failure, and a wake-up for the loop that hands
 * bytes to the sink when more have arrived.
 */
export class ReadSession {
  private readonly controller = new AbortController();
  private firstFailure: unknown;
  private wake: (() => void) | undefined;
  private readonly onOuterAbort = () => this.fail(this.outer?.reason ?? new Error('aborted'));

  constructor(
    private readonly target: ObjectReadTarget,
    private readonly outer: AbortSignal | undefined,
    concurrency: number,
  ) {
    // One signal is shared by every request of the read (up to 1 + 2 × concurrency at once), on purpose.
    setMaxListeners(4 * concurrency + 16, this.controller.signal);
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    if (outer?.aborted) this.onOuterAbort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  /** Records the first failure (as a typed S3 error) and aborts everything else. */
  readonly fail = (err: unknown): void => {
    if (this.firstFailure === undefined && !this.controller.signal.aborted) {
      this.firstFailure = mapS3Error(err, this.target.bucket, this.target.key);
      this.controller.abort(this.firstFailure);
    }
    this.notify();
  };

  throwIfFailed(): void {
    if (this.firstFailure !== undefined) throw this.firstFailure;
  }

  /** More bytes (or a failure): wakes the loop waiting in `sleep`. */
  readonly notify = (): void => {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };

  sleep(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Finished, failed or abandoned: no request may outlive the reader. */
  close(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    this.controller.abort();
  }
}
