/**
 * Publishing a signed release: take the key's next release number, upload the object, sign the
 * manifest naming the version S3 assigned, and upload it as the companion object. The counter is
 * advanced with S3 conditional writes (`If-None-Match: *`, then `If-Match: <ETag>`), a publisher
 * that loses the race reading it again: two publishes of one key never get the same number. A
 * number taken by a publish that fails later is skipped: numbers only have to grow.
 */
import type { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ShadowplugError } from '../errors';
import { classifyS3Error } from '../s3/s3-errors';
import { companionKey, counterKey, reservedKeyReason } from './companion';
import { readCounter } from './companion-read';
import { expiresText, type ReleaseManifest, type SignedRelease } from './manifest';
import { signManifest, type ReleaseSigner } from './signature';

/** Default lifetime of a manifest: long enough for devices that are offline for weeks, short enough that a withheld update shows. */
export const DEFAULT_EXPIRES_MS = 30 * 86_400_000;
/** Losing the counter race this many times in a row is not contention any more. */
const ALLOCATE_ATTEMPTS = 20;

export interface PublishRequest {
  bucket: string;
  key: string;
  /** The bytes, or a stream of exactly `size` bytes (a large file is not held in memory). */
  body: Buffer | Readable;
  /** Required with a stream. */
  size?: number;
  signer: ReleaseSigner;
  /** A number chosen by the publisher; it must be above the counter's. */
  release?: number;
  expires: Date;
}

export interface Published extends SignedRelease {
  versionId?: string;
}

function publishError(message: string, code: string, cause?: unknown): ShadowplugError {
  return new ShadowplugError(message, { code, retryable: false, cause });
}

/** The key's next release number (or `wanted`, if above the counter), taken for good on the counter. */
export async function allocateRelease(s3: S3Client, bucket: string, key: string, wanted?: number): Promise<number> {
  for (let attempt = 1; attempt <= ALLOCATE_ATTEMPTS; attempt++) {
    const current = await readCounter(s3, bucket, key);
    const last = current?.release ?? 0;
    if (wanted !== undefined && wanted <= last) throw publishError(`--release ${wanted} is not above release ${last}, the last one published for ${key}`, 'RELEASE_NOT_NEWER');
    const next = wanted ?? last + 1;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: counterKey(key),
          Body: JSON.stringify({ release: next }),
          ContentType: 'application/json',
          ...(current ? { IfMatch: current.eTag } : { IfNoneMatch: '*' }),
        }),
      );
      return next;
    } catch (err) {
      if (classifyS3Error(err).code === 'S3_OBJECT_CHANGED') continue; // lost the race: read it again
      throw publishError(`cannot advance the release counter ${counterKey(key)}: ${(err as Error).message}`, 'RELEASE_COUNTER', err);
    }
  }
  throw publishError(`the release counter of ${key} kept changing (${ALLOCATE_ATTEMPTS} tries)`, 'RELEASE_COUNTER');
}

/**
 * Upload, sign, upload the companion. `sha256` may be a function, read once the object is stored:
 * a stream hashed on its way up (the manifest is signed only after the PUT anyway).
 */
export async function publishRelease(s3: S3Client, req: PublishRequest, sha256: string | (() => string)): Promise<Published> {
  const size = Buffer.isBuffer(req.body) ? req.body.length : req.size;
  if (size === undefined) throw publishError('a streamed body needs its size', 'PUBLISH_USAGE');
  const reserved = reservedKeyReason(req.key);
  if (reserved !== undefined) throw publishError(`refusing key ${JSON.stringify(req.key)}: ${reserved}`, 'UNSAFE_KEY');
  const release = await allocateRelease(s3, req.bucket, req.key, req.release);
  const put = await s3.send(new PutObjectCommand({ Bucket: req.bucket, Key: req.key, Body: req.body, ContentLength: size }));
  const versionId = put.VersionId && put.VersionId !== 'null' ? put.VersionId : undefined;
  const manifest: ReleaseManifest = {
    format: 1,
    bucket: req.bucket,
    key: req.key,
    ...(versionId ? { versionId } : {}),
    sha256: typeof sha256 === 'string' ? sha256 : sha256(),
    size,
    release,
    expires: expiresText(req.expires),
    keyId: req.signer.keyId,
  };
  const signed = await signManifest(manifest, req.signer);
  await s3.send(new PutObjectCommand({ Bucket: req.bucket, Key: companionKey(req.key), Body: JSON.stringify(signed), ContentType: 'application/json' }));
  return { ...signed, ...(versionId ? { versionId } : {}) };
}

/** `--expires`: a duration from now (`30d`, `12h`, `90m`) or an ISO time. */
export function parseExpires(text: string, now: number): Date {
  const m = /^(\d+)\s*([dhm])$/.exec(text.trim());
  if (m) return new Date(now + Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm']);
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) throw publishError(`--expires ${JSON.stringify(text)}: expected a duration (30d, 12h, 90m) or an ISO time`, 'RELEASE_EXPIRES_INVALID');
  if (t <= now) throw publishError(`--expires ${text} is in the past`, 'RELEASE_EXPIRES_INVALID');
  return new Date(t);
}
