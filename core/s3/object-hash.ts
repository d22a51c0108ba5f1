/**
 * The SHA-256 of exactly the bytes an event announced: S3's own when HeadObject has a FULL_OBJECT
 * SHA-256 (multipart uploads give a COMPOSITE one, a hash of part hashes), else read through the hash.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { stripQuotes } from './event';
import { pinned } from './object-get';
import { readObject, type ObjectReadTarget, type ReadMode, type ReadOptions } from './object-reader';
import { mapS3Error, S3ObjectChangedError } from './s3-errors';

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
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ ...pinned(target), ChecksumMode: 'ENABLED' }), { abortSignal: options.signal });
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
