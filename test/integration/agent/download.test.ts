import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';
import { downloadObject } from '../../../agent/download';
import { discardPartial, partialPaths } from '../../../agent/partial-store';
import { s3ClientConfig, s3ObjectSource } from '../../../agent/s3-source';
import { CancelledError, DownloadError, HashMismatchError, ObjectTooLargeError } from '../../../agent/errors';
import { startTcpProxy, type TcpProxy } from '../../helpers/agent-tcp-proxy';
import { faultyFs } from '../../helpers/faulty-fs';
import { objectBytes, progressReaching, sha256 } from '../../helpers/agent-fixtures';

const SIZE = 4 * 1024 * 1024;

describe('downloadObject against a local S3 server', () => {
  let dir: string;
  let dest: string;
  let s3: LocalS3;
  let proxy: TcpProxy;
  let admin: S3Client;
  let client: S3Client;
  const data = objectBytes(SIZE, 7);
  const hash = sha256(data);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-dl-'));
    dest = join(dir, 'dest');
    s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: ['bucket'] });
    proxy = await startTcpProxy(s3.port);
    admin = s3.createClient();
    client = new S3Client(s3ClientConfig({ endpoint: `http://127.0.0.1:${proxy.port}`, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }));
    await admin.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'dir/firmware.bin', Body: data }));
    await import('node:fs/promises').then((fs) => fs.mkdir(dest));
  });
  afterEach(async () => {
    client.destroy();
    admin.destroy();
    await proxy.close();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (over: Partial<Parameters<typeof downloadObject>[1]> = {}) => ({
    bucket: 'bucket',
    key: 'dir/firmware.bin',
    hash,
    maxSize: 64 * 1024 * 1024,
    finalPath: join(dest, 'firmware.bin'),
    ...over,
  });

  it('installs the verified bytes at the final path and leaves no working files', async () => {
    const result = await downloadObject(s3ObjectSource(client), request({ size: SIZE }));
    expect(result).toMatchObject({ size: SIZE, hash, resumedFrom: 0, fetched: SIZE });
    expect(sha256(readFileSync(join(dest, 'firmware.bin')))).toBe(hash);
    expect(readdirSync(dest)).toEqual(['firmware.bin']);
  });

  it('never installs a download cancelled after its last byte arrived, before the rename (a newer value won)', async () => {
    const fs = faultyFs();
    const controller = new AbortController();
    // The fsync before the rename opens the partial file 'r+': the newer value arrives just then.
    fs.onOpen = (path, flags) => {
      if (path.endsWith('.part') && flags === 'r+') controller.abort(new CancelledError('a newer desired value arrived'));
    };
    await expect(downloadObject(s3ObjectSource(client), request({ size: SIZE, signal: controller.signal, fs }))).rejects.toBeInstanceOf(CancelledError);
    expect(existsSync(join(dest, 'firmware.bin'))).toBe(false);
  });

  it('refuses bytes that do not match the hash, keeping the previous file and removing the partial', async () => {
    writeFileSync(join(dest, 'firmware.bin'), 'previous');
    const wrong = sha256('something else');
    const err = await downloadObject(s3ObjectSource(client), request({ hash: wrong })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HashMismatchError);
    expect((err as HashMismatchError).actual).toBe(hash);
    expect(readFileSync(join(dest, 'firmware.bin'), 'utf8')).toBe('previous');
    expect(readdirSync(dest)).toEqual(['firmware.bin']);
  });

  it('refuses an object larger than the limit from its declared size, before reading it', async () => {
    const err = await downloadObject(s3ObjectSource(client), request({ maxSize: SIZE - 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectTooLargeError);
    expect((err as Error).message).toContain(`limit of ${SIZE - 1} bytes`);
    // Only what was already in flight in socket buffers, far from the whole object.
    expect(proxy.downstreamBytes).toBeLessThan(SIZE / 4);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('refuses a desired size above the limit without any request', async () => {
    const err = await downloadObject(s3ObjectSource(client), request({ size: SIZE, maxSize: 1024 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectTooLargeError);
    expect(proxy.connections).toBe(0);
  });

  it('resumes a cut download with a Range request and hashes the resumed bytes with the rest', async () => {
    const held = proxy.holdAt(SIZE / 2);
    // Everything that passed the proxy but the response head.
    const halfway = progressReaching(SIZE / 2 - 4096);
    const first = downloadObject(s3ObjectSource(client), request({ onProgress: halfway.onProgress })).catch((e: unknown) => e);
    await held;
    await halfway.reached;
    proxy.cutAll();
    const err = await first;
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('S3_CONNECTION');
    expect(existsSync(join(dest, 'firmware.bin'))).toBe(false);
    const { part } = partialPaths(join(dest, 'firmware.bin'), hash);
    expect(readFileSync(part).length).toBeGreaterThan(0);
    proxy.release();

    const before = proxy.downstreamBytes;
    const result = await downloadObject(s3ObjectSource(client), request());
    expect(result.resumedFrom).toBeGreaterThan(SIZE / 4);
    expect(result.resumedFrom + result.fetched).toBe(SIZE);
    expect(proxy.upstreamText).toContain(`bytes=${result.resumedFrom}-`);
    // Only the missing bytes (plus HTTP heads) crossed the wire the second time.
    expect(proxy.downstreamBytes - before).toBeLessThan(SIZE - result.resumedFrom + 4096);
    expect(sha256(readFileSync(join(dest, 'firmware.bin')))).toBe(hash);
    expect(readdirSync(dest)).toEqual(['firmware.bin']);
  });

  it('starts over when the object changed since the interrupted download', async () => {
    const held = proxy.holdAt(SIZE / 2);
    const halfway = progressReaching(SIZE / 2 - 4096);
    const first = downloadObject(s3ObjectSource(client), request({ onProgress: halfway.onProgress })).catch((e: unknown) => e);
    await held;
    await halfway.reached;
    proxy.cutAll();
    await first;
    proxy.release();
    const replacement = objectBytes(SIZE, 8);
    await admin.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'dir/firmware.bin', Body: replacement }));
    const source = s3ObjectSource(client);
    const err = await downloadObject(source, request()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('S3_OBJECT_CHANGED');
    // The desired hash now follows the new object: the stale partial is gone, a fresh download verifies.
    const result = await downloadObject(source, request({ hash: sha256(replacement) }));
    expect(result.resumedFrom).toBe(0);
    expect(readFileSync(join(dest, 'firmware.bin')).equals(replacement)).toBe(true);
  });

  it('stops at once when its signal aborts, keeping the partial until it is discarded', async () => {
    const held = proxy.holdAt(SIZE / 2);
    const controller = new AbortController();
    const first = downloadObject(s3ObjectSource(client), request({ signal: controller.signal })).catch((e: unknown) => e);
    await held;
    controller.abort(new CancelledError('newer desired value'));
    const err = await first;
    expect(err).toBeInstanceOf(CancelledError);
    expect(existsSync(join(dest, 'firmware.bin'))).toBe(false);
    await discardPartial(join(dest, 'firmware.bin'), hash);
    expect(readdirSync(dest)).toEqual([]);
  });
  it('resumes a large object across a cut, re-hashing the partial from disk', async () => {
    const bigData = objectBytes(20 * 1024 * 1024, 12);
    const bigHash = sha256(bigData);
    await admin.send(new PutObjectCommand({ Bucket: 'bucket', Key: 'big.bin', Body: bigData }));
    const req = { bucket: 'bucket', key: 'big.bin', hash: bigHash, size: bigData.length, maxSize: 64 * 1024 * 1024, finalPath: join(dest, 'big.bin') };
    const held = proxy.holdAt(proxy.downstreamBytes + 12 * 1024 * 1024);
    const received = progressReaching(12 * 1024 * 1024 - 4096);
    const first = downloadObject(s3ObjectSource(client), { ...req, onProgress: received.onProgress }).catch((e: unknown) => e);
    await held;
    await received.reached;
    proxy.cutAll();
    proxy.release();
    expect(await first).toBeInstanceOf(DownloadError);
    const result = await downloadObject(s3ObjectSource(client), req);
    expect(result.resumedFrom).toBeGreaterThan(8 * 1024 * 1024);
    expect(sha256(readFileSync(join(dest, 'big.bin')))).toBe(bigHash);
  });
});
