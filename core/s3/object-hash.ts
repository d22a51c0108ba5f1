/**
 * The SHA-256 of exactly the bytes an event announced.
 *
 * First a HeadObject with checksum mode: when S3 already holds a FULL_OBJECT SHA-256 of the
 * object, that is the answer and nothing is read. (Multipart uploads give a COMPOSITE checksum,
 * a hash of part hashes, which is not the object's SHA-256.) Otherwise the object is streamed
 * through the hash by `readObject` (one stream, or parallel ranged GETs when that stream is slow;
 * in order, constant memory).
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, type HeadObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectChangedError } from './errors';
import { stripQuotes } from './event';
import { readObject, type ObjectReadTarget, type ReadMode, type ReadOptions } from './object-reader';
import { mapS3Error } from './s3-errors';

export interface ObjectHash {
  /** Lowercase hex. */
  hash: string;
  size: number;
  /** `checksum`: S3's stored FULL_OBJECT checksum; `read`: streamed and hashed here. */
  source: 'checksum' | 'read';
  /** How the object was read (`read` only). */
  read?: ReadMode;
}

/** Base64 SHA-256 (S3's form) → hex; undefined when it is not a 32-byte digest. */
export function checksumToHex(base64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]{43}=$/.test(base64)) return undefined;
  return Buffer.from(base64, 'base64').toString('hex');
}

export async function hashObject(s3: S3Client, target: ObjectReadTarget, options: ReadOptions): Promise<ObjectHash> {
  const { bucket, key } = target;
  const input: HeadObjectCommandInput = { Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' };
  if (target.versionId !== undefined) input.VersionId = target.versionId;
  else if (target.eTag !== undefined) input.IfMatch = `"${target.eTag}"`;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand(input), { abortSignal: options.signal });
  } catch (err) {
    throw mapS3Error(err, bucket, key);
  }
  if (target.eTag !== undefined && head.ETag !== undefined && stripQuotes(head.ETag) !== target.eTag) {
    throw new S3ObjectChangedError(bucket, key, `ETag is ${stripQuotes(head.ETag)}, the event announced ${target.eTag}`);
  }
  if (head.ContentLength !== undefined && head.ContentLength !== target.size) {
    throw new S3ObjectChangedError(bucket, key, `size is ${head.ContentLength}, the event announced ${target.size}`);
  }
  if (head.ChecksumType === 'FULL_OBJECT' && head.ChecksumSHA256) {
    const hex = checksumToHex(head.ChecksumSHA256);
    if (hex) return { hash: hex, size: target.size, source: 'checksum' };
  }
  const hash = createHash('sha256');
  let read: ReadMode | undefined;
  const onMode = (mode: ReadMode) => {
    read = mode;
    options.onMode?.(mode);
  };
  const size = await readObject(s3, target, { ...options, onMode }, (chunk) => hash.update(chunk));
  return { hash: hash.digest('hex'), size, source: 'read', ...(read ? { read } : {}) };
}
