/** Reads a key's companion release object (attached to the key's state when it names the current version) and its release counter. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../logger';
import type { KeyState } from '../s3/object-get';
import { classifyS3Error, mapS3Error, S3ObjectChangedError, S3ObjectMissingError } from '../s3/s3-errors';
import { ShadowplugError } from '../errors';
import { companionKey, counterKey, MAX_COMPANION_BYTES, parseCompanion, releaseForState } from './companion';

/**
 * `state` with `release` when the companion holds a well-formed manifest for exactly this version;
 * with `releasePending` when a publish of it is under way: the key's release counter is already
 * past the companion's release (publish.ts advances it before the object's PUT and writes the
 * companion after it), so the companion's own event will deliver the version signed. Without that,
 * the object's event would first send every device the version unsigned, which devices with
 * trusted keys refuse (RELEASE_UNSIGNED), and a fleet would get two writes per upload.
 */
export async function withRelease(s3: S3Client, bucket: string, key: string, state: KeyState, log: Logger): Promise<KeyState> {
  if (!state.exists) return state;
  const text = await readCompanion(s3, bucket, companionKey(key));
  let companionRelease = 0;
  if (text !== undefined) {
    try {
      const companion = parseCompanion(text);
      const release = releaseForState(companion, bucket, key, state);
      if (release) return { ...state, release };
      companionRelease = companion.manifest.release;
      log.info('signed release names another version of the key; not attached', { versionId: state.versionId });
    } catch (err) {
      log.warn('companion release object is malformed; not attached', { err });
    }
  }
  // A counter past the companion's release: a publish is under way (unreadable: no, the value goes out unsigned).
  try {
    return ((await readCounter(s3, bucket, key))?.release ?? 0) > companionRelease ? { ...state, releasePending: true } : state;
  } catch (err) {
    log.warn('release counter unreadable; taken as no publish under way', { err });
    return state;
  }
}

async function readCompanion(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${MAX_COMPANION_BYTES}` }));
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of (res?.Body ?? []) as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_COMPANION_BYTES) return ''; // too large to be a manifest: malformed
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if ((err as { name?: string }).name === 'InvalidRange') return ''; // an empty companion: malformed
    const mapped = mapS3Error(err, bucket, key);
    // Missing, or a precondition answer to a read that set none: nothing to attach.
    if (mapped instanceof S3ObjectMissingError || mapped instanceof S3ObjectChangedError) return undefined;
    throw mapped;
  }
}

/** The key's release counter (undefined: none yet). */
export async function readCounter(s3: S3Client, bucket: string, key: string): Promise<{ release: number; eTag: string } | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: counterKey(key) }));
    const value = JSON.parse((await res.Body!.transformToString()) || '{}') as { release?: unknown };
    if (typeof value.release !== 'number' || !Number.isSafeInteger(value.release) || value.release < 0) throw new Error(`no release number in ${JSON.stringify(value)}`);
    return { release: value.release, eTag: res.ETag! };
  } catch (err) {
    if (classifyS3Error(err).code === 'S3_OBJECT_MISSING') return undefined;
    throw new ShadowplugError(`cannot read the release counter ${counterKey(key)}: ${(err as Error).message}`, { code: 'RELEASE_COUNTER', retryable: false, cause: err });
  }
}
