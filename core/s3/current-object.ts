/**
 * What a plain GetObject of a key returns now, asked with HeadObject without a VersionId: the
 * truth every event is settled against, since S3 delivers events late, twice and out of order,
 * and in a versioned bucket old versions stay readable after a delete.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectMissingError } from './errors';
import { stripQuotes } from './event';
import { mapS3Error } from './s3-errors';
import type { SignedRelease } from '../release/manifest';

/**
 * The key's current object, or that it has none (never existed, deleted, or a delete marker).
 * `release` is the publisher's signed manifest for this version, when one was published
 * (core/release/companion-read.ts attaches it); `releasePending` says it is being published: its
 * companion is on the way.
 */
export type KeyState = { exists: false } | { exists: true; size: number; eTag: string; versionId?: string; release?: SignedRelease; releasePending?: true };

export async function currentObject(s3: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<KeyState> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
    const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined;
    return { exists: true, size: head.ContentLength ?? 0, eTag: stripQuotes(head.ETag ?? ''), ...(versionId ? { versionId } : {}) };
  } catch (err) {
    const mapped = mapS3Error(err, bucket, key);
    if (mapped instanceof S3ObjectMissingError) return { exists: false };
    throw mapped;
  }
}
