import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../sandbox/local-s3';
import { uploadFile } from '../../sandbox/upload';
import { readSandboxInfo, removeSandboxInfo, writeSandboxInfo, type SandboxInfo } from '../../sandbox/sandbox-info';
import { SandboxNotRunningError, UnsafeKeyError } from '../../sandbox/errors';
import { ensurePublisherKey } from '../../sandbox/publisher-key';
import { companionKey, parseCompanion } from '../../core/release/companion';
import { keyIdOf, publicKeyOf, verifyManifest } from '../../core/release/signature';
import { makeKey } from '../helpers/release-keys';

function infoFor(dir: string, s3: LocalS3, pid = process.pid): SandboxInfo {
  const publisher = ensurePublisherKey(dir);
  return {
    signingKey: publisher.privatePath,
    trustedKeys: [publisher.publicPath],
    dir,
    pid,
    mqtt: { host: '127.0.0.1', port: 1 },
    dataPlane: 'https://127.0.0.1:1',
    credentials: { endpoint: '127.0.0.1:1/role-aliases/r/credentials', roleAlias: 'r' },
    s3: { endpoint: s3.endpoint, bucket: 'shadowplug', region: s3.region, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    ca: join(dir, 'ca.pem'),
    things: [],
    button: { clientId: 'iotbutton_X', serial: 'X', cert: 'c', key: 'k' },
    plug: { host: '127.0.0.1', port: 1, simulated: true },
    buttonTopic: 'iotbutton/X',
    agents: 'in-process',
  };
}

describe('shadowplug sandbox upload', () => {
  let dir: string;
  let s3: LocalS3;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-upload-'));
    s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: ['shadowplug'] });
  });
  afterEach(async () => {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the running sandbox through <dir>/sandbox.json and stores the exact bytes under the file name', async () => {
    writeSandboxInfo(dir, infoFor(dir, s3));
    const file = join(dir, 'fw 1.bin');
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    writeFileSync(file, bytes);
    const result = await uploadFile({ file, dir });
    expect(result).toMatchObject({ bucket: 'shadowplug', key: 'fw 1.bin', size: bytes.length, url: 's3://shadowplug/fw 1.bin' });
    expect(result.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const client = s3.createClient();
    const got = await client.send(new GetObjectCommand({ Bucket: 'shadowplug', Key: 'fw 1.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    client.destroy();
  });

  it('streams a large file whole (64 MiB) and hashes exactly what was sent', async () => {
    writeSandboxInfo(dir, infoFor(dir, s3));
    const file = join(dir, 'large.bin');
    const chunk = Buffer.alloc(1024 * 1024);
    const hash = createHash('sha256');
    const fd = openSync(file, 'w');
    for (let i = 0; i < 64; i++) {
      chunk.fill(i);
      hash.update(chunk);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    const result = await uploadFile({ file, dir });
    expect(result.size).toBe(64 * 1024 * 1024);
    expect(result.sha256).toBe(hash.digest('hex'));
    const client = s3.createClient();
    const head = await client.send(new HeadObjectCommand({ Bucket: 'shadowplug', Key: 'large.bin' }));
    expect(head.ContentLength).toBe(64 * 1024 * 1024);
    client.destroy();
  }, 60_000);

  it("publishes a signed release with the sandbox's key: the companion verifies with the trusted public key, and each upload of a key takes the next release number", async () => {
    const info = infoFor(dir, s3);
    const file = join(dir, 'fw.bin');
    writeFileSync(file, 'release one');
    const first = await uploadFile({ file, info });
    writeFileSync(file, 'release two');
    const second = await uploadFile({ file, info, expires: '2h', now: Date.parse('2030-01-01T00:00:00Z') });
    expect([first.release, second.release]).toEqual([1, 2]);
    expect(second.expires).toBe('2030-01-01T02:00:00Z');
    const client = s3.createClient();
    try {
      const got = await client.send(new GetObjectCommand({ Bucket: 'shadowplug', Key: companionKey('fw.bin') }));
      const signed = parseCompanion(await got.Body!.transformToString());
      const trusted = publicKeyOf(readFileSync(info.trustedKeys[0]!, 'utf8'));
      expect(verifyManifest(signed, trusted)).toBe(true);
      expect(signed.manifest).toMatchObject({ bucket: 'shadowplug', key: 'fw.bin', versionId: second.versionId, sha256: second.sha256, size: 11, release: 2, keyId: keyIdOf(trusted) });
    } finally {
      client.destroy();
    }
    // The private key is the owner's only: 0600, as the CA's.
    expect(statSync(info.signingKey).mode & 0o777).toBe(0o600);
  });

  it('signs with --signing-key instead, and refuses --release not above the last one before storing anything', async () => {
    const info = infoFor(dir, s3);
    const own = makeKey(dir, 'own');
    const file = join(dir, 'fw.bin');
    writeFileSync(file, 'mine');
    const mine = await uploadFile({ file, info, signingKey: own.privatePath, release: 5 });
    expect(mine).toMatchObject({ release: 5, keyId: own.keyId });
    writeFileSync(file, 'older');
    await expect(uploadFile({ file, info, release: 5 })).rejects.toMatchObject({ code: 'RELEASE_NOT_NEWER', message: expect.stringContaining('--release 5 is not above release 5') });
    const client = s3.createClient();
    try {
      const head = await client.send(new HeadObjectCommand({ Bucket: 'shadowplug', Key: 'fw.bin' }));
      expect(head.VersionId).toBe(mine.versionId);
    } finally {
      client.destroy();
    }
  });

  it('uses --key when given', async () => {
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'hello');
    const result = await uploadFile({ file, key: 'things/shadowplug-device-2/a.txt', info: infoFor(dir, s3) });
    expect(result.key).toBe('things/shadowplug-device-2/a.txt');
  });

  it('says no sandbox is running when sandbox.json is missing, and when its process is gone', () => {
    expect(() => readSandboxInfo(dir)).toThrow(SandboxNotRunningError);
    expect(() => readSandboxInfo(dir)).toThrow(/sandbox\.json does not exist/);
    // pid 2^22+1 is above Linux's pid_max default range: no such process.
    writeSandboxInfo(dir, infoFor(dir, s3, 4_194_305));
    expect(() => readSandboxInfo(dir)).toThrow(/no longer running/);
  });

  it('removes sandbox.json only when it belongs to the caller', () => {
    writeSandboxInfo(dir, infoFor(dir, s3));
    removeSandboxInfo(dir, process.pid + 1);
    expect(readSandboxInfo(dir).pid).toBe(process.pid);
    removeSandboxInfo(dir);
    expect(() => readSandboxInfo(dir)).toThrow(SandboxNotRunningError);
  });

  it.each([
    ['a backslash', 'dir\\fw.bin', 'it contains a backslash'],
    ['a control character', 'fw\u0007.bin', 'it contains control characters'],
    ['a file name over 255 bytes', `${'é'.repeat(128)}.bin`, 'its file name is longer than 255 bytes'],
    ["the agent's reserved prefix", 'things/shadowplug-device-1/.shadowplug-x', 'names starting with .shadowplug- are reserved for the agent'],
    ["a signed release's companion name", 'fw.bin.shadowplug-release', 'names ending in .shadowplug-release are the release bookkeeping of the key before it, never delivered as files'],
    ['a release counter name', 'fw.bin.shadowplug-release-counter', 'names ending in .shadowplug-release-counter are the release bookkeeping of the key before it, never delivered as files'],
  ])('refuses up front a key with %s, which every device refuses, naming the key and the rule; nothing is stored', async (_what, key, rule) => {
    writeSandboxInfo(dir, infoFor(dir, s3));
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'x');
    const err = await uploadFile({ file, key, dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeKeyError);
    expect(err).toMatchObject({ code: 'UNSAFE_KEY', key, reason: rule, retryable: false });
    expect((err as Error).message).toContain(JSON.stringify(key));
    expect((err as Error).message).toContain(rule);
    const client = s3.createClient();
    try {
      await expect(client.send(new HeadObjectCommand({ Bucket: 'shadowplug', Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    } finally {
      client.destroy();
    }
  });

  it('refuses such a key before looking for a sandbox', async () => {
    await expect(uploadFile({ file: join(dir, 'whatever'), key: 'a\\b', dir: join(dir, 'no-sandbox-here') })).rejects.toBeInstanceOf(UnsafeKeyError);
  });

  it('names the file when it cannot be read, and the endpoint when S3 is not there', async () => {
    await expect(uploadFile({ file: join(dir, 'missing.bin'), info: infoFor(dir, s3) })).rejects.toThrow(
      /Cannot upload .*missing\.bin/,
    );
    const file = join(dir, 'a.txt');
    writeFileSync(file, 'x');
    const gone = { ...infoFor(dir, s3), s3: { ...infoFor(dir, s3).s3, endpoint: 'http://127.0.0.1:1' } };
    const err = await uploadFile({ file, info: gone }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SANDBOX_UPLOAD' });
    expect((err as Error).message).toContain('http://127.0.0.1:1');
  });
});
