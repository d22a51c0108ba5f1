/**
 * One GetObject (whole or ranged) pinned to the bytes an event announced: `VersionId` when there
 * is one, otherwise `If-Match` on the eTag (and the response's ETag is checked too, since some
 * S3-compatible servers ignore If-Match). Exact length is checked as the body is read.
 */
import { GetObjectCommand, type GetObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectChangedError } from './errors';
import { stripQuotes } from './event';
import { readError } from './s3-errors';

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

function pinned(target: ObjectReadTarget, range?: string): GetObjectCommandInput {
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
