/**
 * The canonical bytes a release manifest is signed over. Pure.
 *
 * A subset of RFC 8785 (JSON Canonicalization Scheme) that needs no number formatting rules:
 * - objects only with string keys, sorted by UTF-16 code units (JCS's order; for the manifest's
 *   ASCII keys that is plain byte order), no duplicate keys;
 * - no whitespace anywhere;
 * - strings as JSON.stringify writes them (JCS's escaping: `\"`, `\\`, `\b \f \n \r \t`, other
 *   characters below U+0020 as `\u00xx` lowercase, everything else literal);
 * - numbers: safe integers only (`-(2^53-1)` … `2^53-1`), written in decimal without exponent;
 *   no fractions, no `-0`;
 * - `true`, `false`, `null`, arrays in their order;
 * - the whole encoded as UTF-8, no BOM, no trailing newline.
 * So `openssl dgst -sha256 -sign key.pem` over these bytes and our signer agree (see docs/agent.md).
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
