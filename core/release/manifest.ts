/**
 * The release manifest: what a publisher signs about one object version, as canonical JSON with
 * ECDSA P-256 over SHA-256. It travels as `{ manifest, signature }` (base64 of the DER
 * ECDSA-Sig-Value, as KMS `ECDSA_SHA_256` and `openssl dgst -sha256 -sign` produce it). Pure.
 */
import { ShadowplugError } from '../errors';
import { isObject } from '../util/guards';

/**
 * The canonical bytes a manifest is signed over: the subset of RFC 8785 (JCS) that needs no number
 * formatting rules — keys sorted by UTF-16 code units, no whitespace, strings as JSON.stringify
 * writes them (JCS's escaping), safe integers only (no fractions, no `-0`), UTF-8 without BOM or
 * newline — so `openssl dgst -sha256 -sign` over them and our signer agree.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) throw notCanonical(`number ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw notCanonical(`a ${typeof value} has no JSON form`);
}

function notCanonical(problem: string): ShadowplugError {
  return new ShadowplugError(`canonical JSON: ${problem}`, { code: 'RELEASE_MALFORMED', retryable: false });
}

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
