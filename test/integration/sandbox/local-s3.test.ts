import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { localS3ClientConfig, startLocalS3, type LocalS3 } from '../../../sandbox/local-s3';

describe('startLocalS3', () => {
  let dir: string;
  let s3: LocalS3;
  let events: S3Event[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'local-s3-'));
    events = [];
    s3 = await startLocalS3({ dir, buckets: ['b'], onEvent: (e) => void events.push(e) });
  });
  afterEach(async () => {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the exact bytes uploaded and reads them back', async () => {
    const client = s3.createClient();
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'a/b c.txt', Body: 'hello' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'a/b c.txt' }));
    expect(await got.Body!.transformToString()).toBe('hello');
    client.destroy();
  });

  it('emits S3-shaped events with encoded keys and strictly increasing sequencers', async () => {
    const client = s3.createClient();
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'x y+é.txt', Body: '1' }));
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'x y+é.txt', Body: '2' }));
    client.destroy();
    expect(events).toHaveLength(2);
    const [first, second] = events.map((e) => e.Records[0]!.s3.object);
    expect(first!.key).toBe('x+y%2B%C3%A9.txt');
    expect(decodeURIComponent(first!.key.replace(/\+/g, ' '))).toBe('x y+é.txt');
    expect(second!.sequencer > first!.sequencer).toBe(true);
    expect(events[0]!.Records[0]!.eventName).toBe('ObjectCreated:Put');
  });

  it('emits versionId on puts and DeleteMarkerCreated for a delete, as a versioned bucket does', async () => {
    const client = s3.createClient();
    const put = await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'v.bin', Body: '1' }));
    const del = await client.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'v.bin' }));
    await client.send(new DeleteObjectCommand({ Bucket: 'b', Key: 'v.bin', VersionId: put.VersionId }));
    client.destroy();
    expect(events.map((e) => [e.Records[0]!.eventName, e.Records[0]!.s3.object.versionId])).toEqual([
      ['ObjectCreated:Put', put.VersionId],
      ['ObjectRemoved:DeleteMarkerCreated', del.VersionId],
      ['ObjectRemoved:Delete', put.VersionId],
    ]);
  });

  it('stores the object bytes, not the framing, of an aws-chunked upload (an SDK with default checksums)', async () => {
    const { Readable } = await import('node:stream');
    const defaults = new S3Client({ endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } });
    const body = Buffer.alloc(200_000, 7);
    await defaults.send(new PutObjectCommand({ Bucket: 'b', Key: 'chunked.bin', Body: Readable.from([body.subarray(0, 70_000), body.subarray(70_000)]), ContentLength: body.length }));
    const got = await defaults.send(new GetObjectCommand({ Bucket: 'b', Key: 'chunked.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    defaults.destroy();
  });

  it('refuses an unknown access key with InvalidAccessKeyId (403)', async () => {
    const stranger = new S3Client(localS3ClientConfig(s3.endpoint, { accessKeyId: 'REVOKED', secretAccessKey: 'REVOKED' }));
    await expect(stranger.send(new GetObjectCommand({ Bucket: 'b', Key: 'x' }))).rejects.toMatchObject({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } });
    stranger.destroy();
  });
});

describe('startLocalS3 and keys that look like paths (defect 4)', () => {
  it('writes nothing outside its directory, whatever the key', async () => {
    const base = mkdtempSync(join(tmpdir(), 'local-s3-escape-'));
    const dir = join(base, 'a', 'b', 'c', 'store');
    const s3 = await startLocalS3({ dir, buckets: ['b'] });
    const client = s3.createClient();
    try {
      const keys = ['../../../x', '../../../../escaped.txt', '/abs/olute', 'a/../../y', '..', './z'];
      for (const key of keys) await client.send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: key }));
      for (const key of keys) expect(await (await client.send(new GetObjectCommand({ Bucket: 'b', Key: key }))).Body!.transformToString()).toBe(key);
      const files = readdirSync(base, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => f.startsWith(`${dir}/`))).toBe(true);
    } finally {
      client.destroy();
      await s3.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
