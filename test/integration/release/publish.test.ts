/**
 * Publishing against the sandbox's local S3 and moto: release numbers from the counter with
 * conditional writes (two publishes at once never share one), the companion object, and the
 * object Lambda copying the signed release unchanged into desired.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { companionKey, counterKey } from '../../../core/release/companion';
import { allocateRelease, publishRelease } from '../../../core/release/publish';
import { pemSigner } from '../../../core/release/signature';
import { checkRelease, trustedKeys } from '../../../core/release/trust';
import { startLocalPeer, startMotoPeer, type S3Peer } from '../../helpers/s3-peers';
import { makeKey, type TestKey } from '../../helpers/release-keys';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const start of [startLocalPeer, startMotoPeer]) {
  describe(`publishing (${start === startLocalPeer ? 'local S3' : 'moto'})`, () => {
    let peer: S3Peer;
    let dir: string;
    let key: TestKey;
    beforeAll(async () => {
      peer = await start();
      dir = mkdtempSync(join(tmpdir(), 'publish-'));
      key = makeKey(dir, 'publisher');
    }, 60_000);
    afterAll(async () => {
      await peer?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('refuses a conditional write that lost the race with 412 PreconditionFailed', async () => {
      const bucket = await peer.newBucket(true);
      await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'a', IfNoneMatch: '*' }));
      const again = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'b', IfNoneMatch: '*' })).catch((e: unknown) => e);
      expect(again).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
      const stale = await peer.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'c', IfMatch: '"0123456789abcdef0123456789abcdef"' })).catch((e: unknown) => e);
      expect(stale).toMatchObject({ $metadata: { httpStatusCode: 412 } });
    });

    it('gives eight publishes of one key at once eight different release numbers', async () => {
      const bucket = await peer.newBucket(true);
      const numbers = await Promise.all(Array.from({ length: 8 }, () => allocateRelease(peer.client, bucket, 'fw.bin')));
      expect([...numbers].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const counter = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: counterKey('fw.bin') }));
      expect(JSON.parse(await counter.Body!.transformToString())).toEqual({ release: 8 });
      await expect(allocateRelease(peer.client, bucket, 'fw.bin', 8)).rejects.toMatchObject({ code: 'RELEASE_NOT_NEWER' });
      expect(await allocateRelease(peer.client, bucket, 'fw.bin', 20)).toBe(20);
    });

    it('uploads the object and a companion whose manifest names its version, verifying with the public key', async () => {
      const bucket = await peer.newBucket(true);
      const body = Buffer.from('firmware v1');
      const published = await publishRelease(peer.client, { bucket, key: 'fw.bin', body, signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, sha(body));
      expect(published.manifest).toMatchObject({ bucket, key: 'fw.bin', versionId: published.versionId, sha256: sha(body), size: body.length, release: 1, keyId: key.keyId });
      const companion = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: companionKey('fw.bin') }));
      const stored = JSON.parse(await companion.Body!.transformToString()) as { manifest: unknown; signature: string };
      expect(stored).toEqual({ manifest: published.manifest, signature: published.signature });
      const desired = { raw: stored as Record<string, unknown>, bucket, key: 'fw.bin', versionId: published.versionId!, hash: sha(body), size: body.length };
      expect(checkRelease(desired, trustedKeys([key.publicPem]), undefined, Date.now()).ok).toBe(true);
    });

    it('publishes a stream of the given size, signing the hash read on its way up, and refuses a key that names release bookkeeping before storing anything', async () => {
      const bucket = await peer.newBucket(true);
      const body = Buffer.from('streamed firmware');
      const hash = createHash('sha256');
      const stream = Readable.from([body.subarray(0, 5), body.subarray(5)]).map((chunk: Buffer) => (hash.update(chunk), chunk));
      const published = await publishRelease(peer.client, { bucket, key: 'big.bin', body: stream, size: body.length, signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, () => hash.digest('hex'));
      expect(published.manifest).toMatchObject({ sha256: sha(body), size: body.length, release: 1 });
      const stored = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }));
      expect(await stored.Body!.transformToString()).toBe('streamed firmware');
      await expect(publishRelease(peer.client, { bucket, key: companionKey('big.bin'), body, signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, sha(body))).rejects.toMatchObject({ code: 'UNSAFE_KEY' });
      const counter = await peer.client.send(new GetObjectCommand({ Bucket: bucket, Key: counterKey('big.bin') }));
      expect(JSON.parse(await counter.Body!.transformToString())).toEqual({ release: 1 });
    });
  });
}
