/**
 * Reads a key's companion release object (companion.ts) for the object Lambda, and attaches it to
 * the key's state when it names the current version. Never signs, never changes it.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '../logger';
import type { KeyState } from '../s3/current-object';
import { S3ObjectChangedError, S3ObjectMissingError } from '../s3/errors';
import { mapS3Error } from '../s3/s3-errors';
import { companionKey, MAX_COMPANION_BYTES, parseCompanion, releaseForState } from './companion';

/** `state` with `release` when the companion holds a well-formed manifest for exactly this version. */
export async function withRelease(s3: S3Client, bucket: string, key: string, state: KeyState, log: Logger): Promise<KeyState> {
  if (!state.exists) return state;
  const text = await readCompanion(s3, bucket, companionKey(key));
  if (text === undefined) return state;
  try {
    const release = releaseForState(parseCompanion(text), bucket, key, state);
    if (release) return { ...state, release };
    log.info('signed release names another version of the key; not attached', { versionId: state.versionId });
  } catch (err) {
    log.warn('companion release object is malformed; not attached', { err });
  }
  return state;
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
