/**
 * The object-to-shadow handler against a real local S3 server (the sandbox's, versioned as the
 * deployed bucket, its own S3-shaped events with encoded keys) and the sandbox's IoT data-plane HTTPS API on 127.0.0.1, spoken to by the
 * real SDK clients. Only the race test uses the HTTP stub, which can inject a concurrent writer.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import type { S3Event } from 'aws-lambda';
import {
  BUCKET,
  mergeEvents,
  permutations,
  sha256,
  startS3Rig,
  startSandboxShadows,
  startStubShadows,
  type S3Rig,
  type ShadowBackend,
} from '../../helpers/s3-handler-rig';

describe('object-to-shadow with a local S3 and the sandbox data-plane API', () => {
  let rig: S3Rig;
  let shadows: ShadowBackend;
  let iot: IoTDataPlaneClient;
  let n = 0;
  /** A fresh thing name per use: the IoT Core stand-in is shared by the tests of this file. */
  const fresh = (name: string) => `${name}-${++n}`;

  beforeAll(async () => {
    shadows = await startSandboxShadows();
    iot = shadows.client();
  });
  afterAll(async () => {
    await shadows?.close();
  });
  beforeEach(async () => {
    rig = await startS3Rig();
  });
  afterEach(async () => {
    await rig.close();
  });

  const desired = (thing: string, shadowName?: string) => shadows.desired(thing, shadowName)?.s3 as Record<string, unknown> | undefined;

  describe('keys and contents', () => {
    it.each([
      ['a plain key', 'firmware.bin'],
      ['spaces', 'my file name.txt'],
      ['plus signs', 'a+b+c.txt'],
      ['unicode', 'ünïcødé/文件 ✓.bin'],
      ['nested prefixes', 'deep/nested/prefix/x y+z.bin'],
    ])('writes url and hash of the exact object for a key with %s', async (_what, key) => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      const content = `content of ${key}`;
      const event = await rig.put(key, content);
      const outcome = await handler(event);
      expect(outcome.records[0]).toMatchObject({ status: 'applied', key, hash: sha256(content) });
      expect(desired(lamp)).toMatchObject({ url: `s3://${BUCKET}/${key}`, hash: sha256(content), key, bucket: BUCKET, size: Buffer.byteLength(content) });
    });

    it('hashes an empty object', async () => {
      const lamp = fresh('lamp');
      const outcome = await rig.handler({ targetThings: [lamp] }, iot)(await rig.put('empty.txt', ''));
      expect(outcome.records[0]).toMatchObject({ status: 'applied' });
      expect(desired(lamp)).toMatchObject({ hash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', size: 0 });
    });

    it('reads a larger object as parallel ranged GETs and gets the same hash', async () => {
      const lamp = fresh('lamp');
      const data = Buffer.alloc(1_000_003);
      for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
      const handler = rig.handler({ targetThings: [lamp], partSizeBytes: 64 * 1024, readConcurrency: 4 }, iot);
      await handler(await rig.put('big.bin', data));
      expect(desired(lamp)).toMatchObject({ hash: sha256(data), size: data.length });
    });
  });

  describe('events', () => {
    it('handles every record of a multi-record event', async () => {
      const [t1, t2, t3] = [fresh('t'), fresh('t'), fresh('t')];
      const handler = rig.handler({ targetThings: [] }, iot);
      const events = [await rig.put(`things/${t1}/a.txt`, 'one'), await rig.put(`things/${t2}/b.txt`, 'two'), await rig.put(`things/${t3}/c.txt`, 'three')];
      const outcome = await handler(mergeEvents(...events));
      expect(outcome.records.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
      expect(desired(t1)).toMatchObject({ hash: sha256('one') });
      expect(desired(t2)).toMatchObject({ hash: sha256('two') });
      expect(desired(t3)).toMatchObject({ hash: sha256('three') });
    });

    it('changes nothing when an event is delivered twice, and does not read the object again', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      const event = await rig.put('a.txt', 'once');
      await handler(event);
      expect(shadows.version(lamp)).toBe(1);
      const again = await handler(event);
      expect(again.records[0]).toMatchObject({ status: 'skipped', reason: 'superseded' });
      expect(shadows.version(lamp)).toBe(1);
    });

    it('moves to the new version when the same bytes are uploaded again (same hash: nothing for a device to download)', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      const first = await rig.put('a.txt', 'same');
      await handler(first);
      const second = await rig.put('a.txt', 'same');
      await handler(second);
      expect(desired(lamp)).toMatchObject({ hash: sha256('same'), versionId: second.Records[0]!.s3.object.versionId });
      // A late duplicate of the first upload's event changes nothing.
      const version = shadows.version(lamp);
      expect((await handler(first)).records[0]).toMatchObject({ status: 'skipped', reason: 'superseded' });
      expect(shadows.version(lamp)).toBe(version);
    });

    it('ignores a malformed record and other event types, and still handles the rest', async () => {
      const lamp = fresh('lamp');
      const good = await rig.put('ok.txt', 'ok');
      const bad = structuredClone(good);
      bad.Records[0]!.s3.object.key = 'broken%E2%9C';
      const other = structuredClone(good);
      other.Records[0]!.eventName = 'ObjectRestore:Completed' as never;
      const outcome = await rig.handler({ targetThings: [lamp] }, iot)(mergeEvents(bad, other, good));
      expect(outcome.records.map((r) => r.status)).toEqual(['ignored', 'ignored', 'applied']);
      expect(desired(lamp)).toMatchObject({ hash: sha256('ok') });
    });
  });

  describe('routing', () => {
    it('sends keys under things/<thing>/ to that thing only, others to the default targets', async () => {
      const [kitchen, lamp1, lamp2] = [fresh('kitchen'), fresh('lamp'), fresh('lamp')];
      const handler = rig.handler({ targetThings: [lamp1, lamp2] }, iot);
      await handler(await rig.put(`things/${kitchen}/fw.bin`, 'kitchen'));
      expect(desired(kitchen)).toMatchObject({ hash: sha256('kitchen') });
      expect(desired(lamp1)).toBeUndefined();
      await handler(await rig.put('fw.bin', 'everyone'));
      expect(desired(lamp1)).toMatchObject({ hash: sha256('everyone') });
      expect(desired(lamp2)).toMatchObject({ hash: sha256('everyone') });
      expect(desired(kitchen)).toMatchObject({ hash: sha256('kitchen') });
    });

    it('reaches a fleet of 40 default target things with one upload, reading the object once', async () => {
      const fleet = Array.from({ length: 40 }, () => fresh('fleet'));
      const outcome = await rig.handler({ targetThings: fleet }, iot)(await rig.put('fleet/fw.bin', 'for everyone'));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', hashSource: 'read' });
      const things = (outcome.records[0] as { things: { thing: string; result: string }[] }).things;
      expect(things.map((t) => t.thing)).toEqual(fleet);
      expect(things.every((t) => t.result === 'written')).toBe(true);
      for (const thing of fleet) expect(desired(thing)).toMatchObject({ hash: sha256('for everyone') });
    });

    it('writes the configured property of the configured named shadow', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp], shadowProperty: 'firmware', shadowName: 'files' }, iot);
      await handler(await rig.put('fw.bin', 'x'));
      expect(shadows.version(lamp)).toBeUndefined();
      expect(shadows.desired(lamp, 'files')).toEqual({ firmware: expect.objectContaining({ hash: sha256('x') }) });
    });
  });

  describe('removal', () => {
    it('clears the desired value when the key it points at is removed', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      await handler(await rig.put('a.txt', 'a'));
      const outcome = await handler(await rig.remove('a.txt'));
      expect(outcome.records[0]).toMatchObject({ status: 'applied', things: [{ thing: lamp, result: 'cleared' }] });
      expect(desired(lamp)).toBeUndefined();
    });

    it('leaves the desired value when another key is removed', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      await handler(await rig.put('a.txt', 'a'));
      await handler(await rig.put('b.txt', 'b'));
      const outcome = await handler(await rig.remove('a.txt'));
      expect(outcome.records[0]).toMatchObject({ things: [{ thing: lamp, result: 'not-pointing' }] });
      expect(desired(lamp)).toMatchObject({ hash: sha256('b') });
    });

    it('writes nothing for a creation whose object was deleted before the event arrived (an old version is still readable)', async () => {
      const lamp = fresh('lamp');
      const handler = rig.handler({ targetThings: [lamp] }, iot);
      const created = await rig.put('a.txt', 'a');
      const removed = await rig.remove('a.txt');
      expect((await handler(created)).records[0]).toMatchObject({ status: 'applied', things: [{ thing: lamp, result: 'absent' }] });
      await handler(removed);
      expect(shadows.version(lamp)).toBeUndefined();
    });
  });

  describe('issue 13 defects, unversioned bucket', () => {
    let plain: S3Rig;
    beforeEach(async () => {
      plain = await startS3Rig({ versioning: 'Unversioned' });
    });
    afterEach(async () => {
      await plain.close();
    });

    it('put A, delete, put A again delivered as put, put, delete: the late delete does not clear the live key (defect 1)', async () => {
      const lamp = fresh('lamp');
      const handler = plain.handler({ targetThings: [lamp] }, iot);
      const put1 = await plain.put('k.bin', 'A');
      const del = await plain.remove('k.bin');
      const put2 = await plain.put('k.bin', 'A');
      for (const e of [put1, put2, del]) await handler(e);
      expect(desired(lamp)).toMatchObject({ url: `s3://${BUCKET}/k.bin`, hash: sha256('A') });
    });

    it('same bytes uploaded again: only the newer ordering data is written, the hash stays', async () => {
      const lamp = fresh('lamp');
      const handler = plain.handler({ targetThings: [lamp] }, iot);
      await handler(await plain.put('a.txt', 'same'));
      const again = await plain.put('a.txt', 'same');
      const outcome = await handler(again);
      expect(outcome.records[0]).toMatchObject({ status: 'applied', things: [{ thing: lamp, result: 'written' }] });
      expect(desired(lamp)).toMatchObject({ hash: sha256('same'), sequencer: again.Records[0]!.s3.object.sequencer });
      expect(desired(lamp)?.versionId).toBeUndefined();
    });
  });

  describe('order: every delivery order ends with the newest upload in the shadow', () => {
    async function uploads(keys: string[]): Promise<{ events: S3Event[]; contents: string[] }> {
      const events: S3Event[] = [];
      const contents: string[] = [];
      for (const [i, key] of keys.entries()) {
        contents.push(`version ${i} of ${key}`);
        events.push(await rig.put(key, contents[i]!));
      }
      return { events, contents };
    }

    async function deliverAll(keys: string[]) {
      const { events, contents } = await uploads(keys);
      const newest = events.length - 1;
      for (const order of permutations(events.map((_, i) => i))) {
        const thing = fresh('perm');
        const handler = rig.handler({ targetThings: [thing] }, iot);
        for (const i of order) await handler(events[i]!);
        expect(desired(thing), `order ${order.join(',')}`).toMatchObject({
          key: keys[newest],
          hash: sha256(contents[newest]!),
          sequencer: events[newest]!.Records[0]!.s3.object.sequencer,
        });
      }
    }

    it('for 4 overlapping uploads of one key (24 orders)', async () => {
      await deliverAll(['k.bin', 'k.bin', 'k.bin', 'k.bin']);
    });

    it('for 4 interleaved uploads of two keys (24 orders)', async () => {
      await deliverAll(['a.bin', 'b.bin', 'a.bin', 'b.bin']);
    });
  });
});

describe('object-to-shadow under a concurrent shadow writer (HTTP stub)', () => {
  let rig: S3Rig;
  beforeEach(async () => {
    rig = await startS3Rig();
  });
  afterEach(async () => {
    await rig.close();
  });

  it('re-reads after a 409 and does not overwrite a newer value written meanwhile', async () => {
    const shadows = await startStubShadows();
    const scratch = await startStubShadows();
    try {
      const handler = rig.handler({ targetThings: ['lamp'] }, shadows.client());
      await handler(await rig.put('seed.txt', 'seed'));
      const older = await rig.put('a.txt', 'older');
      const newer = await rig.put('b.txt', 'newer');
      // What the newer event writes, computed against a scratch store.
      await rig.handler({ targetThings: ['lamp'] }, scratch.client())(newer);
      const newerValue = scratch.desired('lamp')!.s3 as Record<string, unknown>;
      let raced = false;
      shadows.stub.beforeUpdate = (thing) => {
        if (raced) return;
        raced = true;
        shadows.stub.put(thing, { desired: { s3: newerValue } }); // another invocation wins the race
      };
      const outcome = await handler(older);
      expect(shadows.stub.requests.some((r) => r.method === 'POST' && r.status === 409)).toBe(true);
      expect(outcome.records[0]).toMatchObject({ things: [{ thing: 'lamp', result: 'older' }] });
      expect(shadows.desired('lamp')?.s3).toMatchObject({ key: 'b.txt', hash: sha256('newer') });
    } finally {
      await scratch.close();
      await shadows.close();
    }
  });
});
