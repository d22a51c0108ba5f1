import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { startLocalS3, type LocalS3 } from '../../sandbox/local-s3';
import { uploadFile } from '../../sandbox/upload';
import { readSandboxInfo, removeSandboxInfo, writeSandboxInfo, type SandboxInfo } from '../../sandbox/sandbox-info';
import { SandboxNotRunningError, SandboxUploadError, UnsafeKeyError } from '../../sandbox/errors';

function infoFor(dir: string, s3: LocalS3, pid = process.pid): SandboxInfo {
  return {
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
    expect(err).toBeInstanceOf(SandboxUploadError);
    expect((err as Error).message).toContain('http://127.0.0.1:1');
  });
});
