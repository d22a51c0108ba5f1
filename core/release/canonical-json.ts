/**
 * The canonical bytes a release manifest is signed over: the subset of RFC 8785 (JCS) that needs no
 * number formatting rules — keys sorted by UTF-16 code units, no whitespace, strings as
 * JSON.stringify writes them (JCS's escaping), safe integers only (no fractions, no `-0`), UTF-8
 * without BOM or newline — so `openssl dgst -sha256 -sign` over them and our signer agree. Pure.
 */
import { ShadowplugError } from '../errors';

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
