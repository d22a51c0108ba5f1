/**
 * The release manifest: what a publisher signs about one object version. Pure.
 *
 * `{"bucket","expires","format":1,"key","keyId","release","sha256","size","versionId"}`, signed as
 * canonical JSON (canonical-json.ts) with ECDSA P-256 over SHA-256. It travels as
 * `{ manifest, signature }` (signature: base64 of the DER ECDSA-Sig-Value, what KMS
 * `ECDSA_SHA_256` and `openssl dgst -sha256 -sign` produce) in a companion object
 * `<key>.shadowplug-release`, which the object Lambda copies unchanged into `desired.<property>`.
 */
import { ShadowplugError } from '../errors';
import { isObject } from '../util/guards';
import { canonicalJson } from './canonical-json';

export const MANIFEST_FORMAT = 1;

export interface ReleaseManifest {
  format: typeof MANIFEST_FORMAT;
  bucket: string;
  key: string;
  /** Absent only for an unversioned bucket. */
  versionId?: string;
  /** Lowercase hex SHA-256 of the object's bytes. */
  sha256: string;
  size: number;
  /** Grows by at least one per publish of `key`; a device never installs a lower one at a path. */
  release: number;
  /** `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds): after this the manifest is refused. */
  expires: string;
  /** Lowercase hex SHA-256 of the signing public key's DER SubjectPublicKeyInfo. */
  keyId: string;
}

/** What travels with the object: the manifest and its signature. */
export interface SignedRelease {
  manifest: ReleaseManifest;
  /** Base64 of the DER-encoded ECDSA signature over `canonicalJson(manifest)`. */
  signature: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const EXPIRES = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const FIELDS = new Set(['format', 'bucket', 'key', 'versionId', 'sha256', 'size', 'release', 'expires', 'keyId']);

export function malformed(problem: string): ShadowplugError {
  return new ShadowplugError(`release manifest: ${problem}`, { code: 'RELEASE_MALFORMED', retryable: false });
}

/** `value` as a manifest, every field checked; unknown fields are refused (they would be signed but unread). */
export function parseManifest(value: unknown): ReleaseManifest {
  if (!isObject(value)) throw malformed('not an object');
  for (const k of Object.keys(value)) if (!FIELDS.has(k)) throw malformed(`unknown field ${JSON.stringify(k)}`);
  const { format, bucket, key, versionId, sha256, size, release, expires, keyId } = value;
  if (format !== MANIFEST_FORMAT) throw malformed(`format ${JSON.stringify(format)} is not ${MANIFEST_FORMAT}`);
  if (typeof bucket !== 'string' || bucket === '') throw malformed('bucket must be a non-empty string');
  if (typeof key !== 'string' || key === '') throw malformed('key must be a non-empty string');
  if (versionId !== undefined && (typeof versionId !== 'string' || versionId === '')) throw malformed('versionId must be a non-empty string when present');
  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw malformed('sha256 must be 64 lowercase hex characters');
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed('size must be a non-negative integer');
  if (typeof release !== 'number' || !Number.isSafeInteger(release) || release < 1) throw malformed('release must be a positive integer');
  if (typeof expires !== 'string' || !EXPIRES.test(expires) || Number.isNaN(Date.parse(expires))) throw malformed('expires must be YYYY-MM-DDTHH:MM:SSZ');
  if (typeof keyId !== 'string' || !HEX64.test(keyId)) throw malformed('keyId must be 64 lowercase hex characters');
  return { format: MANIFEST_FORMAT, bucket, key, ...(versionId !== undefined ? { versionId } : {}), sha256, size, release, expires, keyId };
}

/** `{ manifest, signature }` from a desired value, a job's file or a companion object; undefined when neither field is there. */
export function readSignedRelease(value: Record<string, unknown>): SignedRelease | undefined {
  if (value.manifest === undefined && value.signature === undefined) return undefined;
  const manifest = parseManifest(value.manifest);
  if (typeof value.signature !== 'string' || !BASE64.test(value.signature)) throw malformed('signature must be base64');
  return { manifest, signature: value.signature };
}

/** The bytes that are signed. */
export function manifestBytes(manifest: ReleaseManifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

/** `date` as the manifest's `expires` (whole seconds, UTC). */
export function expiresText(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
