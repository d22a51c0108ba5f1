import { generateKeyPairSync, sign } from 'node:crypto';
import { DisabledException, DryRunOperationException, GetPublicKeyCommand, InvalidKeyUsageException, KMSClient, KMSInternalException, KMSInvalidStateException, KMSServiceException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { KmsSignerError, kmsCalls, kmsSigner, type KmsCalls } from '../../../core/release/kms-signer';
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
    // GetPublicKey, a DryRun Sign (may this caller sign?), then the real one.
    expect(calls[1]).toMatchObject({ KeyId: 'alias/shadowplug-publisher', DryRun: true });
    expect(calls[2]).toEqual({ KeyId: 'alias/shadowplug-publisher', Message: expect.any(Buffer) as Buffer, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
  });

  it('refuses a key that is not ECC_NIST_P256', async () => {
    await expect(kmsSigner({ ...kms, getPublicKey: () => Promise.resolve({ KeySpec: 'RSA_2048' }) }, 'k')).rejects.toMatchObject({ code: 'RELEASE_KEY_INVALID' });
  });
});

describe('kmsSigner through @aws-sdk/client-kms (aws-sdk-client-mock): KMS errors as modelled by the SDK', () => {
  const kms = mockClient(KMSClient);
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
  beforeEach(() => {
    kms.reset();
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', PublicKey: publicKey.export({ format: 'der', type: 'spki' }) });
  });
  afterAll(() => kms.restore());

  const signWith = async () => (await kmsSigner(kmsCalls(new KMSClient({ region: 'eu-west-1' })), KEY)).sign(Buffer.from('{}'));

  it.each([
    // Not modelled by the SDK: KMS answers HTTP 400 with __type AccessDeniedException.
    ['AccessDeniedException', new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'User: arn:aws:iam::123456789012:user/bob is not authorized to perform: kms:Sign', ...meta(400) }), 'RELEASE_KMS_ACCESS_DENIED', false],
    ['KMSInvalidStateException (pending deletion)', new KMSInvalidStateException({ message: `${KEY} is pending deletion.`, ...meta(400) }), 'RELEASE_KMS_KEY_UNUSABLE', false],
    ['DisabledException', new DisabledException({ message: `${KEY} is disabled.`, ...meta(400) }), 'RELEASE_KMS_KEY_UNUSABLE', false],
    ['InvalidKeyUsageException', new InvalidKeyUsageException({ message: 'ECDSA_SHA_256 is not valid for this key', ...meta(400) }), 'RELEASE_KEY_INVALID', false],
    ['KMSInternalException', new KMSInternalException({ message: 'internal', ...meta(500) }), 'RELEASE_KMS_UNAVAILABLE', true],
  ] as const)('Sign failing with %s: %s, naming the key', async (_name, error, code, retryable) => {
    kms.on(SignCommand).rejects(error);
    const err = await signWith().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsSignerError);
    expect(err).toMatchObject({ code, retryable, kmsKeyId: KEY, cause: error });
    expect((err as Error).message).toContain(`KMS key ${KEY}: `);
    expect((err as Error).message).toContain(`Sign: ${error.name}`);
  });

  it('checks the right to sign up front with a DryRun Sign (DryRunOperationException: allowed), then signs RAW with ECDSA_SHA_256', async () => {
    kms.on(SignCommand, { DryRun: true }).rejects(new DryRunOperationException({ message: 'The request would have succeeded, but the DryRun option is set.', ...meta(412) }));
    kms.on(SignCommand, { Message: Buffer.from('{}') }).resolves({ Signature: new Uint8Array([0x30, 0x00]) });
    await expect(signWith()).resolves.toEqual(Buffer.from([0x30, 0x00]));
    expect(kms.commandCalls(SignCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY, Message: Buffer.from('shadowplug'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true },
      { KeyId: KEY, Message: Buffer.from('{}'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' },
    ]);
  });

  it('a caller that may not sign is refused when the signer is made, before any Sign of a manifest', async () => {
    kms.on(SignCommand).rejects(new KMSServiceException({ name: 'AccessDeniedException', $fault: 'client', message: 'not authorized to perform: kms:Sign', ...meta(400) }));
    await expect(kmsSigner(kmsCalls(new KMSClient({ region: 'eu-west-1' })), KEY)).rejects.toMatchObject({ code: 'RELEASE_KMS_ACCESS_DENIED', kmsKeyId: KEY });
    expect(kms.commandCalls(SignCommand).map((c) => c.args[0].input.DryRun)).toEqual([true]);
  });
});
