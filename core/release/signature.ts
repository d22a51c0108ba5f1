/**
 * ECDSA P-256 / SHA-256 signatures over a manifest's canonical bytes, with node:crypto. Pure
 * (no I/O): keys come in as PEM text or KeyObjects. Signatures are DER (ASN.1 ECDSA-Sig-Value),
 * as AWS KMS `ECDSA_SHA_256` and `openssl dgst -sha256 -sign` produce them.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { ShadowplugError } from '../errors';
import { manifestBytes, type ReleaseManifest, type SignedRelease } from './manifest';

/** Signs bytes with one key: a local PEM key, or AWS KMS (kms-signer.ts). */
export interface ReleaseSigner {
  /** `keyIdOf` the signing key's public half. */
  readonly keyId: string;
  /** DER ECDSA signature over SHA-256(bytes). */
  sign(bytes: Buffer): Promise<Buffer>;
}

function badKey(problem: string, cause?: unknown): ShadowplugError {
  return new ShadowplugError(`signing key: ${problem}`, { code: 'RELEASE_KEY_INVALID', retryable: false, cause });
}

/** The key `make` reads, which must be EC P-256. */
function p256(make: () => KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = make();
  } catch (err) {
    throw badKey((err as Error).message, err);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw badKey(`expected an EC P-256 (prime256v1) key, got ${key.asymmetricKeyType ?? key.type}${key.asymmetricKeyDetails?.namedCurve ? ` ${key.asymmetricKeyDetails.namedCurve}` : ''}`);
  return key;
}

/** A P-256 public key from PEM (SPKI, or a private key's public half) or SPKI DER (as KMS GetPublicKey returns). */
export function publicKeyOf(material: string | Buffer): KeyObject {
  return p256(() => (typeof material === 'string' ? createPublicKey(material) : createPublicKey({ key: material, format: 'der', type: 'spki' })));
}

/** Lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo (`openssl pkey -pubin -outform DER | sha256sum`). */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('hex');
}

/** A signer over a P-256 private key in PEM (PKCS#8 or SEC1). */
export function pemSigner(pem: string): ReleaseSigner {
  const key = p256(() => createPrivateKey(pem));
  const keyId = keyIdOf(createPublicKey(key));
  return { keyId, sign: (bytes) => Promise.resolve(sign('sha256', bytes, { key, dsaEncoding: 'der' })) };
}

/** `manifest` signed by `signer` (its keyId must be the manifest's). */
export async function signManifest(manifest: ReleaseManifest, signer: ReleaseSigner): Promise<SignedRelease> {
  if (manifest.keyId !== signer.keyId) throw badKey(`manifest names key ${manifest.keyId}, the signer is ${signer.keyId}`);
  const signature = await signer.sign(manifestBytes(manifest));
  return { manifest, signature: signature.toString('base64') };
}

/** Does `signature` (base64 DER) verify over the manifest's canonical bytes with `publicKey`? */
export function verifyManifest(release: SignedRelease, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', manifestBytes(release.manifest), { key: publicKey, dsaEncoding: 'der' }, Buffer.from(release.signature, 'base64'));
  } catch {
    return false;
  }
}
