/**
 * `shadowplug sandbox upload <file>`: a signed release into the running sandbox's bucket through
 * `shadowplug publish`'s code (core/release/publish.ts), signed with the sandbox's key unless
 * `--signing-key` names another; the file is streamed and hashed on the way.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { localS3ClientConfig } from './local-s3';
import { installNameRefusal } from '../agent/install-path';
import { reservedKeyReason } from '../core/release/companion';
import { DEFAULT_EXPIRES_MS, parseExpires, publishRelease } from '../core/release/publish';
import { ShadowplugError } from '../core/errors';
import { signerFromFile } from './publisher-key';
import { sandboxUploadError, UnsafeKeyError } from './errors';
import { readSandboxInfo, type SandboxInfo } from './sandbox-info';

export interface UploadOptions {
  file: string;
  /** Default the file's base name (which goes to every sandbox thing). */
  key?: string;
  /** The sandbox: its info, or its directory (default `.sandbox`). */
  info?: SandboxInfo;
  dir?: string;
  /** Default the sandbox's own. */
  signingKey?: string;
  /** Release number (default: the key's next). */
  release?: number;
  /** `--expires`: a duration (`30d`) or an ISO time (default 30 days). */
  expires?: string;
  /** Epoch ms, for `expires`. */
  now?: number;
}

/** S3 accepts keys of 1 to 1024 UTF-8 bytes; a key no device would install is refused too (UnsafeKeyError). */
export function validateKey(key: string): string {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes === 0) throw sandboxUploadError('Object key is empty');
  if (bytes > 1024) throw sandboxUploadError(`Object key is ${bytes} bytes long; S3 allows at most 1024`);
  const refusal = installNameRefusal(key) ?? reservedKeyReason(key);
  if (refusal !== undefined) throw new UnsafeKeyError(key, refusal);
  return key;
}

/**
 * A pass-through that hashes what flows through it. Hashing in the stream itself: a 'data'
 * listener on the body would switch it to flowing mode and chunks could pass before the SDK
 * attaches, leaving the request short of its length.
 */
export function hashingStream(): { body: Transform; sha256(): string } {
  const hash = createHash('sha256');
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  return { body, sha256: () => hash.digest('hex') };
}

/** An S3 client of the sandbox's bucket with idle limits, not a whole-request limit: a large file may take long, a silent server must not. */
export function sandboxS3Client(info: SandboxInfo): S3Client {
  return new S3Client({ ...localS3ClientConfig(info.s3.endpoint, info.s3), requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000 }) });
}

export async function uploadFile(options: UploadOptions) {
  // The key first: a name no device installs is refused before anything else is looked at.
  const key = validateKey(options.key ?? basename(options.file));
  const info = options.info ?? readSandboxInfo(options.dir ?? '.sandbox');
  const now = options.now ?? Date.now();
  const expires = options.expires !== undefined ? parseExpires(options.expires, now) : new Date(now + DEFAULT_EXPIRES_MS);
  const signingKey = options.signingKey ?? info.signingKey;
  if (signingKey === undefined) throw sandboxUploadError(`the sandbox in ${info.dir} has no signing key (started by an older shadowplug?): give --signing-key`);
  const signer = signerFromFile(signingKey);
  let size: number;
  try {
    const st = statSync(options.file);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (err) {
    throw sandboxUploadError(`Cannot upload ${options.file}: ${(err as Error).message}`, { cause: err });
  }
  const { body, sha256 } = hashingStream();
  const source = createReadStream(options.file);
  source.on('error', (err) => body.destroy(err));
  source.pipe(body);
  // The PUT starts after the release number is taken: a read error before then must not go
  // unhandled (the PUT of the destroyed stream then fails, and that is reported).
  body.on('error', () => undefined);

  const client = sandboxS3Client(info);
  try {
    const published = await publishRelease(client, { bucket: info.s3.bucket, key, body, size, signer, expires, ...(options.release !== undefined ? { release: options.release } : {}) }, sha256);
    const m = published.manifest;
    return {
      bucket: info.s3.bucket,
      key,
      size,
      sha256: m.sha256,
      ...(published.versionId ? { versionId: published.versionId } : {}),
      // As the device sees it in its shadow.
      url: `s3://${info.s3.bucket}/${key}`,
      release: m.release,
      expires: m.expires,
      keyId: m.keyId,
    };
  } catch (err) {
    source.destroy();
    // The publisher's own refusals (--release not above the last, a reserved key) say it all.
    if (err instanceof ShadowplugError && err.code !== 'RELEASE_COUNTER') throw err;
    const e = err as Error & { $retryable?: unknown; code?: string };
    const retryable = e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || Boolean(e.$retryable);
    throw sandboxUploadError(
      `Upload of ${options.file} to s3://${info.s3.bucket}/${key} at ${info.s3.endpoint} failed: ${e.message}`,
      { retryable, cause: err },
    );
  } finally {
    client.destroy();
  }
}
