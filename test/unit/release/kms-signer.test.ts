import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { kmsSigner, type KmsCalls } from '../../../core/release/kms-signer';
import { keyIdOf, signManifest, verifyManifest } from '../../../core/release/signature';

describe('kmsSigner (KMS Sign / GetPublicKey as the publish command calls them, a real P-256 key behind them)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const calls: unknown[] = [];
  const kms: KmsCalls = {
    getPublicKey: (KeyId) => (calls.push({ getPublicKey: KeyId }), Promise.resolve({ KeySpec: 'ECC_NIST_P256', PublicKey: publicKey.export({ format: 'der', type: 'spki' }) })),
    sign: (input) => (calls.push(input), Promise.resolve({ Signature: sign('sha256', Buffer.from(input.Message), { key: privateKey, dsaEncoding: 'der' }) })),
  };

  it('names the key by its public key and signs the raw canonical bytes with ECDSA_SHA_256', async () => {
    const signer = await kmsSigner(kms, 'alias/shadowplug-publisher');
    expect(signer.keyId).toBe(keyIdOf(publicKey));
    const manifest = { format: 1 as const, bucket: 'b-1', key: 'k', sha256: 'a'.repeat(64), size: 1, release: 1, expires: '2099-01-01T00:00:00Z', keyId: signer.keyId };
    const signed = await signManifest(manifest, signer);
    expect(verifyManifest(signed, publicKey)).toBe(true);
    expect(calls[1]).toMatchObject({ KeyId: 'alias/shadowplug-publisher', MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
  });

  it('refuses a key that is not ECC_NIST_P256', async () => {
    await expect(kmsSigner({ ...kms, getPublicKey: () => Promise.resolve({ KeySpec: 'RSA_2048' }) }, 'k')).rejects.toMatchObject({ code: 'RELEASE_KEY_INVALID' });
  });
});
