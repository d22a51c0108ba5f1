/**
 * Issue 13's rule, proven against two versioned S3 peers with the same assertions: moto's S3
 * server (written by others) and the sandbox's local S3. After every order of a key's events,
 * duplicates included, the desired value names exactly what a plain GetObject of the key returns
 * now (its version and SHA-256), or is cleared when the key does not exist; a device following
 * it ends with those bytes, or with no file. The first block shows both peers behave like a
 * versioned S3 where that matters (delete markers, old versions, 404 vs 405, ranges, If-Match).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { downloadObject } from '../../../agent/download';
import { s3ObjectSource } from '../../../agent/s3-source';
import { objectFunctionEnvironment, parseObjectConfig } from '../../../core/s3/config';
import { silentLogger } from '../../../core/logger';
import { classifyS3Error } from '../../../core/s3/s3-errors';
import { createHandler } from '../../../lambda/object-to-shadow';
import { permutations, startStubShadows } from '../../helpers/s3-handler-rig';
import { run, startLocalPeer, startMotoPeer, type Op, type S3Peer } from '../../helpers/s3-peers';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const errorOf = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { name: string; $metadata?: { httpStatusCode?: number }; $response?: { headers: Record<string, string> } });

describe.each([
  ['moto', startMotoPeer],
  ['the local S3', startLocalPeer],
])('against %s, versioned', (_name, startPeer: () => Promise<S3Peer>) => {
  let peer: S3Peer;
  let shadows: Awaited<ReturnType<typeof startStubShadows>>;
  let device: string;
  let n = 0;
  const fresh = (name: string) => `${name}-${++n}`;

  beforeAll(async () => {
    peer = await startPeer();
  }, 60_000);
  afterAll(async () => {
    await peer?.close();
  });
  beforeEach(async () => {
    shadows = await startStubShadows();
    device = mkdtempSync(join(tmpdir(), 'peer-device-'));
  });
  afterEach(async () => {
    await shadows.close();
    rmSync(device, { recursive: true, force: true });
  });

  describe('behaves like a versioned S3', () => {
    it('keeps old versions readable after a delete, while a plain read of the key says NoSuchKey', async () => {
      const bucket = await peer.newBucket(true);
      const v1 = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'one' }));
      const del = await peer.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(v1.VersionId).toBeTruthy();
      expect(del).toMatchObject({ DeleteMarker: true, VersionId: expect.any(String) });
      expect(await errorOf(peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      expect(await errorOf(peer.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'k' })))).toMatchObject({ $metadata: { httpStatusCode: 404 } });
      const old = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: v1.VersionId }));
      expect(await old.Body!.transformToString()).toBe('one');
      // Reading the delete marker's own version: AWS documents 405 MethodNotAllowed (the local S3
      // sends it); moto 5.2 sends 404 NoSuchVersion. Both mean S3_OBJECT_MISSING to our code.
      const marker = await errorOf(peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId })));
      expect([404, 405]).toContain(marker?.$metadata?.httpStatusCode);
      expect(classifyS3Error(marker).code).toBe('S3_OBJECT_MISSING');
      // Removing the marker makes the previous version current again.
      await peer.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k', VersionId: del.VersionId }));
      const back = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
      expect(back.VersionId).toBe(v1.VersionId);
      expect(await back.Body!.transformToString()).toBe('one');
    });

    it('gives identical bytes uploaded again a new version, and lists versions and markers newest first', async () => {
      const bucket = await peer.newBucket(true);
      const a = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'same' }));
      await peer.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
      const b = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'same' }));
      expect(b.VersionId).not.toBe(a.VersionId);
      expect(b.ETag).toBe(a.ETag);
      const listed = await peer.client.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
        [b.VersionId, true],
        [a.VersionId, false],
      ]);
      expect(listed.DeleteMarkers).toHaveLength(1);
    });

    it('answers ranges with 206 and Content-Range, a failed If-Match with 412, a past-the-end range with 416', async () => {
      const bucket = await peer.newBucket(true);
      const put = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'r', Body: '0123456789' }));
      const part = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', Range: 'bytes=3-' }));
      expect(part.$metadata.httpStatusCode).toBe(206);
      expect(part.ContentRange).toBe('bytes 3-9/10');
      expect(await part.Body!.transformToString()).toBe('3456789');
      const pinned = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', IfMatch: put.ETag }));
      expect(await pinned.Body!.transformToString()).toBe('0123456789');
      expect(await errorOf(peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', IfMatch: '"0000"' })))).toMatchObject({ $metadata: { httpStatusCode: 412 } });
      expect(await errorOf(peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'r', Range: 'bytes=10-' })))).toMatchObject({ $metadata: { httpStatusCode: 416 } });
    });

    it('unversioned: no version ids, and a delete removes the key', async () => {
      const bucket = await peer.newBucket(false);
      const put = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'u', Body: 'x' }));
      expect(put.VersionId).toBeUndefined();
      const del = await peer.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'u' }));
      expect(del.DeleteMarker).toBeUndefined();
      expect(await errorOf(peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'u' })))).toMatchObject({ name: 'NoSuchKey' });
    });

    it('stores a key with ../ segments as a key like any other', async () => {
      const bucket = await peer.newBucket(true);
      await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: '../../../x', Body: 'dots' }));
      const got = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: '../../../x' }));
      expect(await got.Body!.transformToString()).toBe('dots');
    });
  });

  /** What a plain GetObject of the key returns now. */
  async function truth(bucket: string, key: string): Promise<{ versionId: string | undefined; hash: string; bytes: Buffer } | undefined> {
    try {
      const got = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      return { versionId: got.VersionId, hash: sha256(bytes), bytes };
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /**
   * Deliver `records` in `order` to a fresh thing; after each, the value is empty or names the
   * key's final state (every S3 operation happened before the first delivery). Returns the final value.
   */
  async function deliver(bucket: string, records: S3EventRecord[], order: number[], keys: string[]) {
    const thing = fresh('lamp');
    const handler = createHandler({ s3: peer.client, iotData: shadows.stub.client(), config: parseObjectConfig(objectFunctionEnvironment({ targetThings: [thing] })), logger: silentLogger });
    const truths = new Map<string, Awaited<ReturnType<typeof truth>>>();
    for (const key of keys) truths.set(key, await truth(bucket, key));
    const label = `order ${order.join(',')}`;
    for (const i of order) {
      await handler({ Records: [records[i]!] });
      const value = shadows.desired(thing)?.s3 as Record<string, unknown> | null | undefined;
      if (value) expect(value, label).toMatchObject({ hash: truths.get(value.key as string)?.hash, versionId: truths.get(value.key as string)?.versionId });
    }
    return { value: shadows.desired(thing)?.s3 as { key: string; hash: string; versionId?: string; size: number } | null | undefined, truths, label };
  }

  /** The final value names a key's current object (or nothing exists); a device following it gets those bytes. */
  async function expectFollowed(bucket: string, result: Awaited<ReturnType<typeof deliver>>) {
    const { value, truths, label } = result;
    if (!value) {
      expect([...truths.values()].every((t) => t === undefined) || value === null || value === undefined, label).toBe(true);
      expect(readdirSync(device)).toEqual([]);
      return;
    }
    const now = truths.get(value.key)!;
    expect(now, `${label}: names ${value.key}, which exists`).toBeDefined();
    expect(value, label).toMatchObject({ hash: now.hash, versionId: now.versionId });
    const finalPath = join(device, `${value.key}-${n}`);
    await downloadObject(s3ObjectSource(peer.client), { bucket, key: value.key, versionId: value.versionId, hash: value.hash, size: value.size, maxSize: 1 << 20, finalPath });
    expect(readFileSync(finalPath).equals(now.bytes), label).toBe(true);
    rmSync(finalPath);
  }

  it('put A, delete, put A again, put B: all 24 orders end naming B, the current version', async () => {
    const bucket = await peer.newBucket(true);
    const records = await run(peer, bucket, [{ put: 'k.bin', body: 'A' }, { delete: 'k.bin' }, { put: 'k.bin', body: 'A' }, { put: 'k.bin', body: 'B' }]);
    for (const order of permutations([0, 1, 2, 3])) {
      const result = await deliver(bucket, records, order, ['k.bin']);
      expect(result.value, result.label).toMatchObject({ key: 'k.bin', hash: sha256('B') });
      await expectFollowed(bucket, result);
    }
  });

  it('put A, delete, put A again: every order ends naming the second A (a late delete clears nothing)', async () => {
    const bucket = await peer.newBucket(true);
    const records = await run(peer, bucket, [{ put: 'k.bin', body: 'A' }, { delete: 'k.bin' }, { put: 'k.bin', body: 'A' }]);
    for (const order of permutations([0, 1, 2])) {
      const result = await deliver(bucket, records, order, ['k.bin']);
      expect(result.value, result.label).toMatchObject({ hash: sha256('A'), versionId: records[2]!.s3.object.versionId });
      await expectFollowed(bucket, result);
    }
  });

  it('put A, put B, delete: all 6 orders end cleared, never naming a deleted version', async () => {
    const bucket = await peer.newBucket(true);
    const records = await run(peer, bucket, [{ put: 'k.bin', body: 'A' }, { put: 'k.bin', body: 'B' }, { delete: 'k.bin' }]);
    for (const order of permutations([0, 1, 2])) {
      const result = await deliver(bucket, records, order, ['k.bin']);
      expect(result.value ?? null, result.label).toBeNull();
      await expectFollowed(bucket, result);
    }
  });

  it('duplicates: every order of both scenarios delivered, then all of it again in reverse', async () => {
    for (const ops of [
      [{ put: 'd.bin', body: 'A' }, { delete: 'd.bin' }, { put: 'd.bin', body: 'A' }, { put: 'd.bin', body: 'B' }],
      [{ put: 'd.bin', body: 'A' }, { put: 'd.bin', body: 'B' }, { delete: 'd.bin' }],
    ] satisfies Op[][]) {
      const bucket = await peer.newBucket(true);
      const records = await run(peer, bucket, ops);
      for (const order of permutations(records.map((_, i) => i))) {
        const result = await deliver(bucket, records, [...order, ...[...order].reverse()], ['d.bin']);
        await expectFollowed(bucket, result);
      }
    }
  });

  it('two keys routed to the same device: all 24 orders end naming a key that exists, with its current bytes', async () => {
    const bucket = await peer.newBucket(true);
    const records = await run(peer, bucket, [{ put: 'one.bin', body: 'A' }, { put: 'two.bin', body: 'B' }, { delete: 'one.bin' }, { put: 'two.bin', body: 'C' }]);
    for (const order of permutations([0, 1, 2, 3])) {
      const result = await deliver(bucket, records, order, ['one.bin', 'two.bin']);
      expect(result.value, result.label).toMatchObject({ key: 'two.bin', hash: sha256('C') });
      await expectFollowed(bucket, result);
    }
  });
});
