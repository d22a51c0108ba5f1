/**
 * The file-sync capability's desired value: `{ url: 's3://bucket/key', hash: '<sha256 hex>',
 * versionId?, size?, ...}` as written by the object Lambda (and by the seed program's Lambda,
 * which wrote only `url` and `hash`). Extra fields are kept opaque and echoed back when reporting.
 * Pure.
 */
import { AgentError } from './errors';
import { isObject, type JsonObject } from '../core/shadow/json';

export interface FileDesired {
  /** The value exactly as found in the shadow (echoed into `reported`). */
  raw: JsonObject;
  url: string;
  bucket: string;
  key: string;
  /** Lower-case hex SHA-256. */
  hash: string;
  versionId?: string;
  size?: number;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Bucket and key of `s3://bucket/key`; the key is taken literally (the Lambda writes it decoded). */
export function parseS3Url(url: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/s.exec(url);
  if (!m) throw invalidDesired(`url ${JSON.stringify(url)} is not of the form s3://bucket/key`);
  const [, bucket, key] = m;
  if (!BUCKET.test(bucket!)) throw invalidDesired(`url ${JSON.stringify(url)}: ${JSON.stringify(bucket)} is not a valid bucket name`);
  return { bucket: bucket!, key: key! };
}

export function parseFileDesired(value: unknown): FileDesired {
  if (!isObject(value)) throw invalidDesired(`desired value must be an object with url and hash, got ${JSON.stringify(value)}`);
  const { url, hash, versionId, size } = value;
  if (typeof url !== 'string') throw invalidDesired('desired value has no url string');
  if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
    throw invalidDesired(`desired hash ${JSON.stringify(hash)} is not a 64-character hex SHA-256`);
  }
  const { bucket, key } = parseS3Url(url);
  const out: FileDesired = { raw: value, url, bucket, key, hash: hash.toLowerCase() };
  if (typeof versionId === 'string' && versionId.length > 0) out.versionId = versionId;
  if (typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) out.size = size;
  return out;
}

/** The desired value in the shadow cannot be acted on (no url/hash, not an s3:// URL, ...). */
function invalidDesired(message: string): AgentError {
  return new AgentError(message, { code: 'INVALID_DESIRED', retryable: false });
}
