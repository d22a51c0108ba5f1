/**
 * The Device Shadow service over MQTT, driven by MQTT.js with a device certificate, checked
 * against the examples and rules of AWS's Device Shadow documentation. Each test has a thing of
 * its own, its shadow seeded to the state the test starts from.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shadowTopics } from '../../../core/shadow/topics';
import type { JsonObject } from '../../../core/shadow/json';
import { ALL_OWN_SHADOW_OPERATIONS, shadowDevice, startTestIotCore, thingNamer, type ShadowDevice, type ShadowSeed, type TestIotCore } from '../../helpers/iot-core-clients';

/** A lamp's shadow history from AWS's examples: version 1, 2 and 3 after each update. */
const LAMP_HISTORY: { state: JsonObject }[] = [
  { state: { desired: { color: 'red', lights: { on: true } } } },
  { state: { reported: { color: 'red', lights: { on: false }, colors: ['a', 'b'], battery: 90 }, desired: { colors: ['a', 'b'] } } },
  { state: { desired: { colors: ['a', 'c'] } } },
];

describe('shadow service over MQTT', () => {
  let iot: TestIotCore;
  const nextThing = thingNamer('lamp');
  const open: ShadowDevice[] = [];

  beforeAll(async () => {
    // Named shadows and delete: wider than the device policy the stack deploys, as IoT Core allows.
    iot = await startTestIotCore({ sharedDeviceKey: true, devicePolicy: ALL_OWN_SHADOW_OPERATIONS });
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    await iot?.close();
  });

  /** A fresh thing's device, its shadows seeded first. */
  async function device(seed: ShadowSeed = []) {
    const d = await shadowDevice(iot, nextThing(), seed);
    open.push(d);
    return { ...d, t: shadowTopics(d.thing) };
  }

  it('rejects get on a shadow that does not exist with 404', async () => {
    const { thing, t, inbox, publish } = await device();
    await publish(t.get, '');
    const rejected = await inbox.next(t.getRejected);
    expect(rejected).toMatchObject({ code: 404, message: `No shadow exists with name: ${thing}` });
    expect(typeof rejected.timestamp).toBe('number');
  });

  it('accepts a first update, echoes the clientToken, and publishes delta and documents', async () => {
    const { t, inbox, publish } = await device();
    await publish(t.update, { state: { desired: { color: 'red', lights: { on: true } } }, clientToken: 'tok-1' });
    const accepted = await inbox.next(t.updateAccepted);
    expect(accepted).toMatchObject({
      state: { desired: { color: 'red', lights: { on: true } } },
      version: 1,
      clientToken: 'tok-1',
      metadata: { desired: { color: { timestamp: expect.any(Number) }, lights: { on: { timestamp: expect.any(Number) } } } },
    });
    const delta = await inbox.next(t.updateDelta);
    expect(delta).toMatchObject({ state: { color: 'red', lights: { on: true } }, version: 1, clientToken: 'tok-1' });
    expect(delta.metadata).toEqual({ color: { timestamp: expect.any(Number) }, lights: { on: { timestamp: expect.any(Number) } } });
    const documents = await inbox.next(t.updateDocuments);
    expect(documents.previous).toBeUndefined();
    expect(documents).toMatchObject({ current: { state: { desired: { color: 'red', lights: { on: true } } }, version: 1 }, clientToken: 'tok-1' });
  });

  it('keeps paths in the delta, compares arrays whole and leaves reported-only keys out', async () => {
    const { t, inbox, publish } = await device(LAMP_HISTORY.slice(0, 1));
    await publish(t.update, LAMP_HISTORY[1]);
    await inbox.next(t.updateAccepted);
    const delta = await inbox.next(t.updateDelta);
    // color matches; lights.on differs (path kept); colors equal; battery only reported.
    expect(delta.state).toEqual({ lights: { on: true } });
    const documents = await inbox.next(t.updateDocuments);
    expect(documents).toMatchObject({ previous: { version: 1 }, current: { version: 2 } });

    await publish(t.update, LAMP_HISTORY[2]);
    await inbox.next(t.updateAccepted);
    expect((await inbox.next(t.updateDelta)).state).toEqual({ lights: { on: true }, colors: ['a', 'c'] });
    await inbox.next(t.updateDocuments);
  });

  it('answers get with state, delta, metadata and version', async () => {
    const { t, inbox, publish } = await device(LAMP_HISTORY);
    await publish(t.get, { clientToken: 'g1' });
    const doc = await inbox.next(t.getAccepted);
    expect(doc).toMatchObject({
      state: {
        desired: { color: 'red', lights: { on: true }, colors: ['a', 'c'] },
        reported: { color: 'red', lights: { on: false }, colors: ['a', 'b'], battery: 90 },
        delta: { lights: { on: true }, colors: ['a', 'c'] },
      },
      version: 3,
      clientToken: 'g1',
    });
    expect((doc.metadata as { reported: { colors: unknown } }).reported.colors).toEqual([{ timestamp: expect.any(Number) }, { timestamp: expect.any(Number) }]);
  });

  it('deletes a key with null and publishes no delta once desired equals reported', async () => {
    const { t, inbox, publish } = await device(LAMP_HISTORY);
    await publish(t.update, { state: { desired: { colors: null, lights: null }, reported: { colors: null } } });
    const accepted = await inbox.next(t.updateAccepted);
    expect(accepted.state).toEqual({ desired: { colors: null, lights: null }, reported: { colors: null } });
    // The service publishes a delta (when there is one) before documents, on the same connection.
    await inbox.next(t.updateDocuments);
    expect(inbox.pending(t.updateDelta)).toEqual([]);
    await publish(t.get, '');
    const doc = await inbox.next(t.getAccepted);
    expect(doc.state).toEqual({ desired: { color: 'red' }, reported: { color: 'red', lights: { on: false }, battery: 90 } });
  });

  it('rejects a stale version with 409 and accepts the current one', async () => {
    const { t, inbox, publish } = await device(LAMP_HISTORY);
    await publish(t.update, { state: { desired: { color: 'blue' } }, version: 1, clientToken: 'stale' });
    expect(await inbox.next(t.updateRejected)).toMatchObject({ code: 409, message: 'Version conflict', clientToken: 'stale' });
    await publish(t.update, { state: { desired: { color: 'blue' } }, version: 3 });
    expect(await inbox.next(t.updateAccepted)).toMatchObject({ version: 4 });
    await inbox.next(t.updateDelta);
    await inbox.next(t.updateDocuments);
  });

  it('rejects too deep, too large and malformed updates with AWS codes and messages', async () => {
    const { t, inbox, publish } = await device();
    await publish(t.update, { state: { reported: { 1: { 2: { 3: { 4: { 5: { 6: { 7: 'x' } } } } } } } } });
    expect(await inbox.next(t.updateRejected)).toMatchObject({ code: 400, message: 'JSON contains too many levels of nesting; maximum is 6' });
    await publish(t.update, { state: { reported: { blob: 'x'.repeat(9000) } } });
    expect(await inbox.next(t.updateRejected)).toMatchObject({ code: 413, message: 'The payload exceeds the maximum size allowed' });
    await publish(t.update, '{not json');
    expect(await inbox.next(t.updateRejected)).toMatchObject({ code: 400, message: 'Invalid JSON' });
    await publish(t.update, { desired: { a: 1 } });
    expect(await inbox.next(t.updateRejected)).toMatchObject({ code: 400, message: 'Missing required node: state' });
  });

  it('serves named shadows separately from the classic one', async () => {
    const { thing, inbox, publish } = await device(LAMP_HISTORY);
    const n = shadowTopics(thing, 'files');
    await publish(n.update, { state: { desired: { s3: { key: 'a.bin' } } } });
    expect(await inbox.next(n.updateAccepted)).toMatchObject({ version: 1 });
    expect((await inbox.next(n.updateDelta)).state).toEqual({ s3: { key: 'a.bin' } });
    await inbox.next(n.updateDocuments);
    expect(iot.shadows.listNamed(thing)).toEqual(['files']);
    expect(iot.shadows.get(thing)).toMatchObject({ version: 3 });
  });

  it('deletes a shadow, answers 404 after, and keeps the version counter', async () => {
    const { thing, inbox, publish } = await device([{ state: { desired: { s3: { key: 'a.bin' } } }, shadowName: 'files' }]);
    const n = shadowTopics(thing, 'files');
    await publish(n.delete, { clientToken: 'd1' });
    expect(await inbox.next(n.deleteAccepted)).toMatchObject({ version: 1, clientToken: 'd1' });
    await publish(n.get, '');
    expect(await inbox.next(n.getRejected)).toMatchObject({ code: 404, message: 'No shadow exists with name: files' });
    await publish(n.delete, '');
    expect(await inbox.next(n.deleteRejected)).toMatchObject({ code: 404 });
    await publish(n.update, { state: { reported: { s3: { key: 'a.bin' } } } });
    expect(await inbox.next(n.updateAccepted)).toMatchObject({ version: 2 });
    await inbox.next(n.updateDocuments);
  });
});
