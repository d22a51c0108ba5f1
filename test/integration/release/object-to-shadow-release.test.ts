/**
 * The object Lambda and signed releases: it copies the companion's manifest and signature into
 * desired unchanged (never signing), in whichever order the object's and the companion's events
 * come, ignores the release counter, and attaches nothing that names another version.
 */
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { S3Event } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { companionKey } from '../../../core/release/companion';
import { allocateRelease, publishRelease } from '../../../core/release/publish';
import { pemSigner, signManifest } from '../../../core/release/signature';
import { expiresText } from '../../../core/release/manifest';
import { BUCKET, startS3Rig, startSandboxShadows, type S3Rig, type ShadowBackend } from '../../helpers/s3-handler-rig';
import { makeKey, type TestKey } from '../../helpers/release-keys';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('object-to-shadow with signed releases', () => {
  let rig: S3Rig;
  let shadows: ShadowBackend;
  let iot: IoTDataPlaneClient;
  let key: TestKey;
  let n = 0;
  const fresh = () => `device-${++n}`;

  beforeAll(async () => {
    shadows = await startSandboxShadows();
    iot = shadows.client();
  });
  afterAll(async () => {
    await shadows?.close();
  });
  beforeEach(async () => {
    rig = await startS3Rig();
    key = makeKey(rig.dir, 'publisher');
  });
  afterEach(async () => {
    await rig.close();
  });

  /** Publish and return its three events by kind. */
  async function publish(body: string) {
    const bytes = Buffer.from(body);
    const published = await publishRelease(rig.client, { bucket: BUCKET, key: 'fw.bin', body: bytes, signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, sha(bytes));
    const events: S3Event[] = [await rig.nextEvent(), await rig.nextEvent(), await rig.nextEvent()];
    const of = (k: string) => events.find((e) => decodeURIComponent(e.Records[0]!.s3.object.key) === k)!;
    return { published, counter: of('fw.bin.shadowplug-release-counter'), object: of('fw.bin'), companion: of(companionKey('fw.bin')) };
  }

  it.each([
    ['object first', ['object', 'companion']],
    ['companion first', ['companion', 'object']],
  ] as const)('copies the manifest and signature unchanged into desired, once: by the companion\'s event (%s)', async (_what, order) => {
    const thing = fresh();
    const handler = rig.handler({ targetThings: [thing] }, iot);
    const p = await publish('firmware one');
    expect((await handler(p.counter)).records[0]).toMatchObject({ status: 'ignored', reason: 'release-counter' });
    const outcomes: Record<string, unknown> = {};
    for (const which of order) outcomes[which] = (await handler(p[which])).records[0];
    // The object's own event leaves it to the companion's: one hash, one write (for a fleet: one fan-out, one summary).
    expect(outcomes.object).toMatchObject({ status: 'skipped', reason: 'release-pending' });
    expect(outcomes.companion).toMatchObject({ status: 'applied' });
    expect(shadows.version(thing)).toBe(1);
    const desired = shadows.desired(thing)?.s3 as Record<string, unknown>;
    expect(desired).toMatchObject({ url: `s3://${BUCKET}/fw.bin`, hash: sha(Buffer.from('firmware one')), versionId: p.published.versionId, manifest: p.published.manifest, signature: p.published.signature });
  });

  it("holds the object's event while its publish is under way (counter past the companion), so devices never get the version unsigned; the companion's event delivers it signed", async () => {
    const thing = fresh();
    const handler = rig.handler({ targetThings: [thing] }, iot);
    const bytes = Buffer.from('firmware one');
    // The first half of a publish: the counter taken, the object stored, the companion not yet.
    const release = await allocateRelease(rig.client, BUCKET, 'fw.bin');
    await rig.nextEvent();
    const put = await rig.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fw.bin', Body: bytes }));
    expect((await handler(await rig.nextEvent())).records[0]).toMatchObject({ status: 'skipped', reason: 'release-pending' });
    expect(shadows.desired(thing)).toBeUndefined();
    const signed = await signManifest({ format: 1, bucket: BUCKET, key: 'fw.bin', versionId: put.VersionId!, sha256: sha(bytes), size: bytes.length, release, expires: expiresText(new Date(Date.now() + 86_400_000)), keyId: key.keyId }, pemSigner(key.privatePem));
    await rig.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: companionKey('fw.bin'), Body: JSON.stringify(signed) }));
    await handler(await rig.nextEvent());
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha(bytes), versionId: put.VersionId, manifest: { release: 1 }, signature: signed.signature });
  });

  it("in an unversioned bucket the object's own event still delivers: its companion names no version, so a later upload of the same size is not held for it", async () => {
    const unversioned = await startS3Rig({ versioning: 'Unversioned' });
    try {
      const thing = fresh();
      const handler = unversioned.handler({ targetThings: [thing] }, iot);
      await publishRelease(unversioned.client, { bucket: BUCKET, key: 'fw.bin', body: Buffer.from('firmware one'), signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, sha(Buffer.from('firmware one')));
      const events = [await unversioned.nextEvent(), await unversioned.nextEvent(), await unversioned.nextEvent()];
      const object = events.find((e) => e.Records[0]!.s3.object.key === 'fw.bin')!;
      expect((await handler(object)).records[0]).toMatchObject({ status: 'applied' });
      await unversioned.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fw.bin', Body: 'firmware two' }));
      expect((await handler(await unversioned.nextEvent())).records[0]).toMatchObject({ status: 'applied' });
      expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha(Buffer.from('firmware two')) });
    } finally {
      await unversioned.close();
    }
  });

  it('takes a newer upload without the old signature, and its own once its companion comes', async () => {
    const thing = fresh();
    const handler = rig.handler({ targetThings: [thing] }, iot);
    const first = await publish('firmware one');
    await handler(first.object);
    await handler(first.companion);
    // A plain upload over the key: the companion names the old version, so nothing is attached.
    await rig.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'fw.bin', Body: 'plain upload' }));
    await handler(await rig.nextEvent());
    const plain = shadows.desired(thing)?.s3 as Record<string, unknown>;
    expect(plain.hash).toBe(sha(Buffer.from('plain upload')));
    expect(plain.manifest).toBeUndefined();
    expect(plain.signature).toBeUndefined();
    const second = await publish('firmware two');
    await handler(second.object);
    await handler(second.companion);
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: sha(Buffer.from('firmware two')), manifest: { release: 2 }, signature: second.published.signature });
  });
});
