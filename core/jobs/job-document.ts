/**
 * The job document of a file roll-out: `{"operation":"shadowplug.file","file":{...}}`, `file` being
 * exactly what `desired.s3` carries on the shadow path, so the agent installs and checks it the same way. Pure.
 */
import { createHash } from 'node:crypto';
import { ShadowplugError } from '../errors';
import { isObject } from '../util/guards';

export const FILE_OPERATION = 'shadowplug.file';
/** IoT's limit on a job document (CreateJob `document`). */
export const MAX_JOB_DOCUMENT_BYTES = 32 * 1024;
/** CreateJob `jobId`: `[a-zA-Z0-9_-]{1,64}`. */
export const JOB_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export interface FileJobDocument {
  operation: typeof FILE_OPERATION;
  /** The value `desired.s3` would hold for this upload. */
  file: Record<string, unknown>;
}

function invalid(message: string): ShadowplugError {
  return new ShadowplugError(`job document: ${message}`, { code: 'JOB_DOCUMENT_INVALID', retryable: false });
}

/** The document as CreateJob takes it; throws when it exceeds IoT's 32 KB. */
export function serializeJobDocument(file: Record<string, unknown>): string {
  const doc: FileJobDocument = { operation: FILE_OPERATION, file };
  const text = JSON.stringify(doc);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_JOB_DOCUMENT_BYTES) throw invalid(`${bytes} bytes exceeds IoT's ${MAX_JOB_DOCUMENT_BYTES}-byte limit`);
  return text;
}

/** A document of ours, or a clear error naming what is wrong (another operation, no file). */
export function parseJobDocument(value: unknown): FileJobDocument {
  if (!isObject(value)) throw invalid(`expected an object, got ${JSON.stringify(value)}`);
  if (value.operation !== FILE_OPERATION) throw invalid(`operation ${JSON.stringify(value.operation)} is not ${FILE_OPERATION}`);
  if (!isObject(value.file)) throw invalid('has no file object');
  return { operation: FILE_OPERATION, file: value.file };
}

/**
 * `sp-<24 hex>`: one id per object version (and bytes), whatever prefix or key length; a signed
 * release of that version (its companion's event) is another job, since devices that check
 * signatures refuse the unsigned one.
 */
export function fileJobId(file: { url: string; hash: string; versionId?: string; signature?: unknown }): string {
  const parts = [file.url, file.versionId ?? null, file.hash, ...(typeof file.signature === 'string' ? [file.signature] : [])];
  const digest = createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `sp-${digest.slice(0, 24)}`;
}

/**
 * The largest document an upload under `keyPrefix` can make: S3's longest key (1,024 bytes) of
 * characters JSON escapes six-fold, in the url, the key and a signed release's manifest, with
 * every other field at its longest. The limits check holds it against IoT's 32 KB.
 */
export function worstCaseJobDocumentBytes(keyPrefix: string): number {
  const key = keyPrefix + '\u0001'.repeat(Math.max(0, 1024 - Buffer.byteLength(keyPrefix)));
  const bucket = 'b'.repeat(63);
  const versionId = 'v'.repeat(1024);
  const hash = 'f'.repeat(64);
  const file = {
    url: `s3://${bucket}/${key}`,
    hash,
    size: Number.MAX_SAFE_INTEGER,
    bucket,
    key,
    versionId,
    eTag: `${'e'.repeat(32)}-10000`,
    sequencer: 'F'.repeat(32),
    eventTime: '2026-12-31T23:59:59.999Z',
    manifest: { format: 1, bucket, key, versionId, size: Number.MAX_SAFE_INTEGER, sha256: hash, release: Number.MAX_SAFE_INTEGER, expires: '2026-12-31T23:59:59.999Z', keyId: 'k'.repeat(64) },
    // Base64 of a DER ECDSA P-256 signature: at most 72 bytes.
    signature: 's'.repeat(96),
  };
  return Buffer.byteLength(JSON.stringify({ operation: FILE_OPERATION, file }));
}
