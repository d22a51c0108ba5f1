/**
 * The device's decision on a desired value when it has trusted keys: install, or refuse with a
 * code (the table in docs/agent.md#signed-releases), before any byte is downloaded. Pure.
 */
import type { KeyObject } from 'node:crypto';
import type { ShadowplugError } from '../errors';
import { readSignedRelease, type ReleaseManifest } from './manifest';
import { keyIdOf, publicKeyOf, verifyManifest } from './signature';

/**
 * A device's clock may run ahead of the publisher's: a manifest is accepted up to 5 minutes past
 * `expires`. Devices keep time by NTP (their TLS connection to AWS IoT already fails on clocks far
 * off), and 5 minutes is the customary bound for that (Kerberos, SigV4's 15 is for requests, not
 * for validity periods). Expiry is measured in days, so the tolerance changes nothing else.
 */
export const EXPIRY_SKEW_MS = 5 * 60_000;

export const REFUSAL_CODES = ['RELEASE_UNSIGNED', 'RELEASE_MALFORMED', 'RELEASE_UNKNOWN_KEY', 'RELEASE_BAD_SIGNATURE', 'RELEASE_MISMATCH', 'RELEASE_ROLLBACK', 'RELEASE_EXPIRED'] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface TrustedKey {
  keyId: string;
  key: KeyObject;
}

/** Trusted keys from PEM texts (public keys, or private keys whose public half is meant). */
export function trustedKeys(pems: readonly string[]): TrustedKey[] {
  return pems.map((pem) => {
    const key = publicKeyOf(pem);
    return { keyId: keyIdOf(key), key };
  });
}

/** What the desired value says it names (after the agent has parsed it). */
export interface NamedObject {
  raw: Record<string, unknown>;
  bucket: string;
  key: string;
  versionId?: string;
  hash: string;
  size?: number;
}

/** The highest release installed at a path, and its bytes. */
export interface InstalledRelease {
  release: number;
  sha256: string;
}

export type TrustDecision = { ok: true; manifest: ReleaseManifest } | { ok: false; code: RefusalCode; message: string };

export function checkRelease(desired: NamedObject, trusted: readonly TrustedKey[], installed: InstalledRelease | undefined, nowMs: number): TrustDecision {
  const refuse = (code: RefusalCode, message: string): TrustDecision => ({ ok: false, code, message });
  let release;
  try {
    release = readSignedRelease(desired.raw);
  } catch (err) {
    return refuse('RELEASE_MALFORMED', (err as ShadowplugError).message);
  }
  if (!release) return refuse('RELEASE_UNSIGNED', 'the desired value carries no signed release manifest, and this device installs only signed releases (--trusted-key)');
  const m = release.manifest;
  const signer = trusted.find((t) => t.keyId === m.keyId);
  if (!signer) return refuse('RELEASE_UNKNOWN_KEY', `the manifest is signed by key ${m.keyId}, which is not among this device's ${trusted.length} trusted key(s)`);
  if (!verifyManifest(release, signer.key)) return refuse('RELEASE_BAD_SIGNATURE', `the signature does not verify with key ${m.keyId}: the manifest was changed after signing, or the signature is not for it`);
  const diff = mismatch(m, desired);
  if (diff) return refuse('RELEASE_MISMATCH', `the signed manifest names ${diff}`);
  if (installed && (m.release < installed.release || (m.release === installed.release && m.sha256 !== installed.sha256))) {
    return refuse('RELEASE_ROLLBACK', `release ${m.release} is not newer than release ${installed.release} installed at this path${m.release === installed.release ? ' (same release number, other bytes)' : ''}`);
  }
  if (nowMs > Date.parse(m.expires) + EXPIRY_SKEW_MS) return refuse('RELEASE_EXPIRED', `the manifest expired at ${m.expires}`);
  return { ok: true, manifest: m };
}

/** The first field where the manifest and the value disagree, said as "X, the value Y". */
function mismatch(m: ReleaseManifest, d: NamedObject): string | undefined {
  const pairs: [string, unknown, unknown][] = [
    ['bucket', m.bucket, d.bucket],
    ['key', m.key, d.key],
    ['versionId', m.versionId, d.versionId],
    ['sha256', m.sha256, d.hash],
    ['size', m.size, d.size],
  ];
  for (const [field, signed, named] of pairs) if (signed !== named) return `${field} ${JSON.stringify(signed)}, the desired value ${JSON.stringify(named ?? null)}`;
  return undefined;
}
