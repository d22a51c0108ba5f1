/**
 * A release signer backed by an AWS KMS key (`ECC_NIST_P256`, `SIGN_VERIFY`): `Sign` with
 * `ECDSA_SHA_256` over the raw manifest bytes (KMS hashes them) returns a DER signature, and
 * `GetPublicKey` the SPKI DER the keyId is computed from. The client is a parameter: the publish
 * command builds it from `@aws-sdk/client-kms`, imported only there, so the agent never carries it.
 */
import { ShadowplugError } from '../errors';
import { keyIdOf, publicKeyOf, type ReleaseSigner } from './signature';

/** The two KMS calls, as `@aws-sdk/client-kms` commands sent through one client. */
export interface KmsCalls {
  getPublicKey(keyId: string): Promise<{ PublicKey?: Uint8Array; KeySpec?: string }>;
  sign(input: { KeyId: string; Message: Uint8Array; MessageType: 'RAW'; SigningAlgorithm: 'ECDSA_SHA_256' }): Promise<{ Signature?: Uint8Array }>;
}

export async function kmsSigner(kms: KmsCalls, kmsKeyId: string): Promise<ReleaseSigner> {
  const pub = await kms.getPublicKey(kmsKeyId);
  if (pub.KeySpec !== undefined && pub.KeySpec !== 'ECC_NIST_P256') throw new ShadowplugError(`KMS key ${kmsKeyId} is ${pub.KeySpec}; release signing needs ECC_NIST_P256`, { code: 'RELEASE_KEY_INVALID', retryable: false });
  if (!pub.PublicKey) throw new ShadowplugError(`KMS returned no public key for ${kmsKeyId}`, { code: 'RELEASE_KEY_INVALID', retryable: false });
  const keyId = keyIdOf(publicKeyOf(Buffer.from(pub.PublicKey)));
  return {
    keyId,
    async sign(bytes) {
      const out = await kms.sign({ KeyId: kmsKeyId, Message: bytes, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
      if (!out.Signature) throw new ShadowplugError(`KMS Sign returned no signature for ${kmsKeyId}`, { code: 'RELEASE_SIGN_FAILED', retryable: true });
      return Buffer.from(out.Signature);
    },
  };
}
