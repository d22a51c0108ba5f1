/**
 * The KMS signer at the SDK boundary, against moto_server's KMS (written by others; it signs with
 * real ECDSA P-256 keys) with IAM enforced: the real `@aws-sdk/client-kms` client over HTTP on
 * 127.0.0.1. The DER signature KMS returns verifies with node:crypto and with `openssl dgst`,
 * against the PEM that docs/deploy.md's one command (AWS CLI + openssl) makes, and the agent's
 * trust check accepts the release; refusals by KMS become typed errors naming the key. And
 * `shadowplug publish --kms-key-id` itself, against moto's S3 and KMS.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateBucketCommand, GetObjectCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsSignerError, kmsCalls, kmsSigner } from '../../../core/release/kms-signer';
import { expiresText, manifestBytes, type ReleaseManifest } from '../../../core/release/manifest';
import { publicKeyOf, signManifest, verifyManifest } from '../../../core/release/signature';
import { checkRelease, trustedKeys } from '../../../core/release/trust';
import { companionKey } from '../../../core/release/companion';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../../../core/s3/compatible-endpoint';
import { enforceIam, motoUser, type AccessKey } from '../../helpers/moto-iam';
import { runCliToEnd } from '../../helpers/sandbox-harness';
import { startMotoServer, type MotoServer } from '../../helpers/s3-peers';

const run = promisify(execFile);
const REGION = 'us-east-1';
const NOW = Date.parse('2026-12-01T00:00:00Z');

let moto: MotoServer;
let dir: string;
let users: Record<'publisher' | 'reader' | 'outsider' | 'ci', AccessKey>;
let admin: AccessKey;
const BUCKET = 'releases-1';
const keys = { ecc: '', rsa: '', symmetric: '' };
const clients: KMSClient[] = [];

function kmsAs(user: AccessKey): KMSClient {
  const client = new KMSClient({ endpoint: moto.endpoint, region: REGION, credentials: user, maxAttempts: 1 });
  clients.push(client);
  return client;
}

/** docs/deploy.md's command, run as written, with the CLI pointed at moto. */
async function publicKeyPem(user: AccessKey, keyId: string): Promise<string> {
  const out = join(dir, 'release-signing.pub.pem');
  const command = `aws kms get-public-key --region ${REGION} --key-id ${keyId} --query PublicKey --output text | base64 --decode | openssl pkey -pubin -inform DER -out ${out} && cat ${out}`;
  const env = { ...process.env, AWS_ACCESS_KEY_ID: user.accessKeyId, AWS_SECRET_ACCESS_KEY: user.secretAccessKey, AWS_ENDPOINT_URL: moto.endpoint, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
  const { stdout } = await run('bash', ['-o', 'pipefail', '-c', command.replace('aws kms', `aws --endpoint-url ${moto.endpoint} kms`)], { env });
  return stdout;
}

function manifest(keyId: string): ReleaseManifest {
  return { format: 1, bucket: 'releases-1', key: 'fw.bin', versionId: 'v1', sha256: 'a'.repeat(64), size: 1024, release: 7, expires: expiresText(new Date(NOW + 86_400_000)), keyId };
}

beforeAll(async () => {
  moto = await startMotoServer();
  dir = mkdtempSync(join(tmpdir(), 'kms-signer-'));
  admin = await motoUser(moto.endpoint, 'admin', ['*']);
  users = {
    ci: await motoUser(moto.endpoint, 'ci', ['kms:Sign', 'kms:GetPublicKey', 's3:GetObject', 's3:PutObject']),
    publisher: await motoUser(moto.endpoint, 'publisher', ['kms:Sign', 'kms:GetPublicKey']),
    reader: await motoUser(moto.endpoint, 'reader', ['kms:GetPublicKey']),
    outsider: await motoUser(moto.endpoint, 'outsider', ['kms:DescribeKey']),
  };
  await enforceIam(moto.endpoint);
  const kms = kmsAs(admin);
  const create = async (KeySpec: 'ECC_NIST_P256' | 'RSA_2048' | 'SYMMETRIC_DEFAULT') =>
    (await kms.send(new CreateKeyCommand({ KeySpec, KeyUsage: KeySpec === 'SYMMETRIC_DEFAULT' ? 'ENCRYPT_DECRYPT' : 'SIGN_VERIFY' }))).KeyMetadata!.Arn!;
  keys.ecc = await create('ECC_NIST_P256');
  keys.rsa = await create('RSA_2048');
  keys.symmetric = await create('SYMMETRIC_DEFAULT');
  await kms.send(new CreateAliasCommand({ AliasName: 'alias/shadowplug-releases', TargetKeyId: keys.ecc }));
  const s3 = s3As(admin);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
}, 60_000);

const s3Clients: S3Client[] = [];
function s3As(user: AccessKey): S3Client {
  const client = new S3Client({ endpoint: moto.endpoint, region: REGION, credentials: user, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
  s3Clients.push(client);
  return client;
}

afterAll(async () => {
  for (const c of [...clients, ...s3Clients]) c.destroy();
  await moto?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('signing with a KMS ECC_NIST_P256 key (moto, IAM enforced)', () => {
  it('signs the canonical manifest bytes; the DER signature verifies with node:crypto and openssl against the PEM from get-public-key', async () => {
    const signer = await kmsSigner(kmsCalls(kmsAs(users.publisher)), 'alias/shadowplug-releases');
    const pem = await publicKeyPem(users.publisher, keys.ecc);
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const [trusted] = trustedKeys([pem]);
    expect(signer.keyId).toBe(trusted!.keyId);

    const signed = await signManifest(manifest(signer.keyId), signer);
    const der = Buffer.from(signed.signature, 'base64');
    expect(der[0]).toBe(0x30); // ASN.1 SEQUENCE of r and s
    expect(verifyManifest(signed, publicKeyOf(pem))).toBe(true);

    writeFileSync(join(dir, 'manifest.json'), manifestBytes(signed.manifest));
    writeFileSync(join(dir, 'manifest.sig'), der);
    const { stdout } = await run('openssl', ['dgst', '-sha256', '-verify', join(dir, 'release-signing.pub.pem'), '-signature', join(dir, 'manifest.sig'), join(dir, 'manifest.json')]);
    expect(stdout.trim()).toBe('Verified OK');
    const { stdout: keyId } = await run('bash', ['-o', 'pipefail', '-c', `openssl pkey -pubin -in ${join(dir, 'release-signing.pub.pem')} -outform DER | sha256sum`]);
    expect(keyId.split(' ')[0]).toBe(signer.keyId);

    // What a device with --trusted-key release-signing.pub.pem decides about it.
    const m = signed.manifest;
    const raw = { url: `s3://${m.bucket}/${m.key}`, versionId: m.versionId, hash: m.sha256, size: m.size, manifest: signed.manifest, signature: signed.signature };
    const desired = { raw, bucket: m.bucket, key: m.key, versionId: m.versionId!, hash: m.sha256, size: m.size };
    expect(checkRelease(desired, trustedKeys([pem]), undefined, NOW)).toEqual({ ok: true, manifest: m });
  });

  it('names the key by id, ARN and alias alike (one keyId: the public key)', async () => {
    const kms = kmsCalls(kmsAs(users.publisher));
    const ids = await Promise.all([keys.ecc, keys.ecc.split('/').pop()!, 'alias/shadowplug-releases'].map(async (k) => (await kmsSigner(kms, k)).keyId));
    expect(new Set(ids).size).toBe(1);
  });
});

describe('what KMS refuses, as typed errors naming the key', () => {
  it('Sign denied (a principal that may read the public key only): RELEASE_KMS_ACCESS_DENIED when the signer is made', async () => {
    const err = await kmsSigner(kmsCalls(kmsAs(users.reader)), keys.ecc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KmsSignerError);
    expect(err).toMatchObject({ code: 'RELEASE_KMS_ACCESS_DENIED', retryable: false, kmsKeyId: keys.ecc });
    expect((err as Error).message).toMatch(new RegExp(`^KMS key ${keys.ecc}: access denied \\(Sign: HTTP 403\\b.*releasePublisher`));
  });

  it('GetPublicKey denied: refused before anything is uploaded', async () => {
    const err = await kmsSigner(kmsCalls(kmsAs(users.outsider)), 'alias/shadowplug-releases').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RELEASE_KMS_ACCESS_DENIED', kmsKeyId: 'alias/shadowplug-releases' });
    expect((err as Error).message).toMatch(/^KMS key alias\/shadowplug-releases: access denied \(GetPublicKey: HTTP 403\b/);
  });

  it.each([
    ['an RSA_2048 signing key', 'rsa', /is RSA_2048 for SIGN_VERIFY; release signing needs ECC_NIST_P256 for SIGN_VERIFY$/],
    ['a symmetric encryption key', 'symmetric', /release signing needs ECC_NIST_P256/],
  ] as const)('the wrong key spec (%s): RELEASE_KEY_INVALID', async (_what, which, problem) => {
    const err = await kmsSigner(kmsCalls(kmsAs(users.publisher)), keys[which]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RELEASE_KEY_INVALID', retryable: false, kmsKeyId: keys[which] });
    expect((err as Error).message).toContain(`KMS key ${keys[which]}`);
    expect((err as Error).message).toMatch(problem);
  });

  it('an alias that does not exist: RELEASE_KMS_KEY_NOT_FOUND', async () => {
    const err = await kmsSigner(kmsCalls(kmsAs(users.publisher)), 'alias/no-such-key').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RELEASE_KMS_KEY_NOT_FOUND', kmsKeyId: 'alias/no-such-key' });
    expect((err as Error).message).toMatch(/^KMS key alias\/no-such-key: no such key or alias/);
  });
});

describe('shadowplug publish --kms-key-id (moto S3 and KMS)', () => {
  it('uploads the file and a companion whose manifest the KMS key signed, for the version S3 assigned', async () => {
    const file = join(dir, 'fw.bin');
    writeFileSync(file, 'firmware 1');
    const env = { AWS_ACCESS_KEY_ID: users.ci.accessKeyId, AWS_SECRET_ACCESS_KEY: users.ci.secretAccessKey, AWS_ENDPOINT_URL_KMS: moto.endpoint, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const args = ['publish', file, '--key', 'fw.bin', '--bucket', BUCKET, '--kms-key-id', 'alias/shadowplug-releases', '--region', REGION, '--s3-endpoint', moto.endpoint, '--json'];
    const out = await runCliToEnd(args, { env, timeoutMs: 120_000 });
    expect(out.code, out.stderr).toBe(0);
    const published = JSON.parse(out.stdout) as { manifest: ReleaseManifest; signature: string; versionId: string };
    expect(published.manifest).toMatchObject({ bucket: BUCKET, key: 'fw.bin', size: 10, release: 1, versionId: published.versionId });

    const pem = await publicKeyPem(users.ci, 'alias/shadowplug-releases');
    expect(published.manifest.keyId).toBe(trustedKeys([pem])[0]!.keyId);
    const companion = await s3As(admin).send(new GetObjectCommand({ Bucket: BUCKET, Key: companionKey('fw.bin') }));
    const stored = JSON.parse(await companion.Body!.transformToString()) as { manifest: ReleaseManifest; signature: string };
    expect(stored).toEqual({ manifest: published.manifest, signature: published.signature });
    expect(verifyManifest(stored, publicKeyOf(pem))).toBe(true);
  }, 150_000);

  it.each([
    ['may not sign', 'reader', 'alias/shadowplug-releases', 'RELEASE_KMS_ACCESS_DENIED'],
    ['names a key that cannot sign releases', 'ci', 'rsa', 'RELEASE_KEY_INVALID'],
  ] as const)('fails naming the key when the caller %s, before uploading anything', async (_what, who, kmsKey, code) => {
    const kmsKeyId = kmsKey === 'rsa' ? keys.rsa : kmsKey;
    const file = join(dir, 'fw2.bin');
    writeFileSync(file, 'firmware 2');
    const env = { AWS_ACCESS_KEY_ID: users[who].accessKeyId, AWS_SECRET_ACCESS_KEY: users[who].secretAccessKey, AWS_ENDPOINT_URL_KMS: moto.endpoint, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const out = await runCliToEnd(['publish', file, '--key', 'fw2.bin', '--bucket', BUCKET, '--kms-key-id', kmsKeyId, '--region', REGION, '--s3-endpoint', moto.endpoint, '--json'], { env, timeoutMs: 120_000 });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(`shadowplug publish: KMS key ${kmsKeyId}: `);
    expect(JSON.parse(out.stdout)).toMatchObject({ error: { name: 'KmsSignerError', code } });
    const listed = await s3As(admin).send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'fw2.bin' }));
    expect(listed.Versions ?? []).toEqual([]);
  }, 150_000);
});
