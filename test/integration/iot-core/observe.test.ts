/**
 * `iot.observe(filter, callback)`: watching messages in process, with no socket and no listener
 * that skips the client certificate. It sees the shadow service's messages whichever way the update
 * came (MQTT, the data-plane API, `iot.shadows`), stops on unsubscribe and on close, and a throwing
 * observer changes nothing for the devices.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UpdateThingShadowCommand, type IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { createLogger } from '../../../core/logger';
import { shadowTopics } from '../../../core/shadow/topics';
import { acceptsMqttWithoutCertificate, shadowDevice, startTestIotCore, thingNamer, type Inbox, type ShadowDevice, type ShadowSeed, type TestIotCore } from '../../helpers/iot-core-clients';

interface Seen {
  topic: string;
  body: Record<string, unknown>;
}

/** Collects what an observer is given; `next(topic)` waits for the next one on that topic. */
function recorder() {
  const seen: Seen[] = [];
  const waiters: { topic: string; resolve: (s: Seen) => void }[] = [];
  const callback = (topic: string, payload: Buffer) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      body = { raw: payload.toString('utf8') };
    }
    const entry = { topic, body };
    seen.push(entry);
    for (const w of [...waiters]) {
      if (w.topic === topic) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
  };
  let taken = 0;
  const next = (topic: string, timeoutMs = 5_000): Promise<Seen> => {
    const idx = seen.findIndex((s, i) => i >= taken && s.topic === topic);
    if (idx >= 0) {
      taken = idx + 1;
      return Promise.resolve(seen[idx]!);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`observer got nothing on ${topic} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({
        topic,
        resolve: (s) => {
          clearTimeout(timer);
          taken = seen.length;
          resolve(s);
        },
      });
    });
  };
  return { seen, callback, next };
}

describe('IoT Core observe (in-process message observation)', () => {
  let iot: TestIotCore;
  let sdk: IoTDataPlaneClient;
  const logLines: string[] = [];
  const nextThing = thingNamer('heater');
  const open: ShadowDevice[] = [];

  beforeAll(async () => {
    iot = await startTestIotCore({
      sharedDeviceKey: true,
      logger: createLogger({ level: 'error', json: true, write: (l) => logLines.push(l) }),
    });
    sdk = iot.createDataPlaneClient();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    sdk?.destroy();
    await iot?.close();
  });

  /** A fresh thing per test, its shadow seeded, with a device subscribed to all its shadow topics. */
  async function heater(seed: ShadowSeed = []) {
    const d = await shadowDevice(iot, nextThing(), seed);
    open.push(d);
    return { thing: d.thing, t: shadowTopics(d.thing), device: d.client, inbox: d.inbox };
  }

  /** The device's next message on `topic` that carries `clientToken` (earlier ones are skipped). */
  const untilToken = async (inbox: Inbox, topic: string, clientToken: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const m = await inbox.next(topic);
      if (m.clientToken === clientToken) return m;
    }
  };

  it('opens no plain listener unless asked', () => {
    expect(iot.plainMqtt).toBeUndefined();
  });

  it('receives update/documents and update/delta for an update made over MQTT', async () => {
    const { thing, t, device, inbox } = await heater();
    const rec = recorder();
    const stop = iot.observe(`$aws/things/${thing}/shadow/#`, rec.callback);
    try {
      await device.publishAsync(t.update, JSON.stringify({ state: { desired: { temp: 21 } }, clientToken: 'mqtt-1' }), { qos: 1 });
      const delta = await rec.next(t.updateDelta);
      expect(delta.body).toMatchObject({ state: { temp: 21 }, clientToken: 'mqtt-1' });
      const docs = await rec.next(t.updateDocuments);
      expect(docs.body).toMatchObject({ current: { state: { desired: { temp: 21 } } }, clientToken: 'mqtt-1' });
      // The filter matches the device's own request topic too: observers see clients' publishes.
      expect(rec.seen.map((s) => s.topic)).toEqual(expect.arrayContaining([t.update, t.updateAccepted, t.updateDelta, t.updateDocuments]));
      expect(await untilToken(inbox, t.updateDocuments, 'mqtt-1')).toEqual(docs.body);
    } finally {
      stop();
    }
  });

  it('receives update/documents and update/delta for an update made over the data-plane API and through iot.shadows', async () => {
    const { thing, t } = await heater([{ state: { desired: { temp: 21 } } }]);
    const rec = recorder();
    const stop = iot.observe('$aws/things/+/shadow/update/#', rec.callback);
    try {
      await sdk.send(new UpdateThingShadowCommand({ thingName: thing, payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { temp: 22 } }, clientToken: 'http-1' })) }));
      expect((await rec.next(t.updateDelta)).body).toMatchObject({ state: { temp: 22 }, clientToken: 'http-1' });
      expect((await rec.next(t.updateDocuments)).body).toMatchObject({ previous: { state: { desired: { temp: 21 } } }, current: { state: { desired: { temp: 22 } } } });

      iot.shadows.update(thing, { state: { reported: { temp: 22 } } });
      const docs = await rec.next(t.updateDocuments);
      expect(docs.body).toMatchObject({ current: { state: { desired: { temp: 22 }, reported: { temp: 22 } } } });
      // desired = reported now: no delta for that update.
      expect(rec.seen.filter((s) => s.topic === t.updateDelta)).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('stops delivering as soon as it is unsubscribed', async () => {
    const { thing, t, inbox } = await heater();
    const rec = recorder();
    const stop = iot.observe(`$aws/things/${thing}/shadow/update/documents`, rec.callback);
    iot.shadows.update(thing, { state: { desired: { temp: 23 } } });
    await rec.next(t.updateDocuments);
    stop();
    stop(); // twice is harmless
    const before = rec.seen.length;
    // A witness observing the same topic, subscribed after the stopped one: once it has the message,
    // the stopped observer would have had it too (delivery follows subscription order), so no sleep.
    const witness = recorder();
    const stopWitness = iot.observe(t.updateDocuments, witness.callback);
    iot.shadows.update(thing, { state: { desired: { temp: 24 } }, clientToken: 'unobserved' });
    // The device still gets it, the observer does not.
    await untilToken(inbox, t.updateDocuments, 'unobserved');
    expect((await witness.next(t.updateDocuments)).body).toMatchObject({ clientToken: 'unobserved' });
    stopWitness();
    expect(rec.seen).toHaveLength(before);
  });

  it('logs a throwing or rejecting observer and keeps delivering to devices and to other observers', async () => {
    const { thing, t, device, inbox } = await heater();
    logLines.length = 0;
    const stopThrow = iot.observe(`$aws/things/${thing}/shadow/#`, () => {
      throw new Error('observer exploded');
    });
    const stopReject = iot.observe(`$aws/things/${thing}/shadow/#`, () => Promise.reject(new Error('observer rejected')));
    const rec = recorder();
    const stopGood = iot.observe(`$aws/things/${thing}/shadow/update/delta`, rec.callback);
    try {
      await device.publishAsync(t.update, JSON.stringify({ state: { desired: { temp: 25 } }, clientToken: 'after-throw' }), { qos: 1 });
      expect(await untilToken(inbox, t.updateDelta, 'after-throw')).toMatchObject({ state: { temp: 25 } });
      expect((await rec.next(t.updateDelta)).body).toMatchObject({ clientToken: 'after-throw' });
      // And the broker still serves the device.
      await device.publishAsync(t.get, JSON.stringify({ clientToken: 'get-after-throw' }), { qos: 1 });
      expect(await untilToken(inbox, t.getAccepted, 'get-after-throw')).toMatchObject({ state: { desired: { temp: 25 } } });
      expect(logLines.some((l) => l.includes('mqtt observer failed') && l.includes('observer exploded'))).toBe(true);
      expect(logLines.some((l) => l.includes('mqtt observer failed') && l.includes('observer rejected'))).toBe(true);
    } finally {
      stopThrow();
      stopReject();
      stopGood();
    }
  });

  it('refuses a malformed filter with IOT_CORE_INVALID_NAME', () => {
    for (const bad of ['', 'a/#/b', 'a/b+', 'a/#x']) {
      expect(() => iot.observe(bad, () => {}), bad).toThrow(expect.objectContaining({ code: 'IOT_CORE_INVALID_NAME' }));
    }
  });

  it('does not hand $-topics to a filter that starts with a wildcard (as MQTT requires)', async () => {
    const { thing, t, inbox } = await heater();
    const rec = recorder();
    const stop = iot.observe('#', rec.callback);
    // Subscribed after '#': once the witness has the $-topic message, '#' would have had it too.
    const witness = recorder();
    const stopWitness = iot.observe(t.updateDocuments, witness.callback);
    try {
      iot.shadows.update(thing, { state: { desired: { temp: 26 } }, clientToken: 'hash-filter' });
      await untilToken(inbox, t.updateDocuments, 'hash-filter');
      expect((await witness.next(t.updateDocuments)).body).toMatchObject({ clientToken: 'hash-filter' });
      expect(rec.seen.filter((s) => s.topic.startsWith('$'))).toEqual([]);
    } finally {
      stopWitness();
      stop();
    }
  });
});

describe('IoT Core observe and close', () => {
  it('close() ends every observer, and observe after close throws IOT_CORE_CLOSED', async () => {
    const iot = await startTestIotCore({ things: ['fan-1'] });
    const rec = recorder();
    let device: ShadowDevice | undefined;
    try {
      iot.observe('$aws/things/fan-1/shadow/update/documents', rec.callback);
      iot.shadows.update('fan-1', { state: { desired: { on: true } } });
      await rec.next('$aws/things/fan-1/shadow/update/documents');
      const before = rec.seen.length;
      // A connected device keeps the broker delivering while close() disconnects it, so an update
      // made just after close() is called is still handed out: the observer must already be off.
      // Once the broker has handed the message out (or dropped it), it cannot come later.
      device = await shadowDevice(iot, 'fan-1');
      const closing = iot.close();
      iot.shadows.update('fan-1', { state: { desired: { on: false } }, clientToken: 'during-close' });
      await iot.messagesDelivered();
      expect(rec.seen).toHaveLength(before);
      await closing;
      // After close: the update is in memory only, the broker drops its messages.
      iot.shadows.update('fan-1', { state: { desired: { on: true } }, clientToken: 'after-close' });
      await iot.messagesDelivered();
      expect(rec.seen).toHaveLength(before);
    } finally {
      await device?.close();
      await iot.close();
    }
    expect(() => iot.observe('#', () => {})).toThrow(expect.objectContaining({ code: 'IOT_CORE_CLOSED' }));
  });

  it('the plain listener, when asked for, does accept MQTT without a certificate (the probe used by the sandbox tests works)', async () => {
    const iot = await startTestIotCore({ plainMqttPort: 0 });
    try {
      expect(iot.plainMqtt).toBeDefined();
      // A CONNACK ends the probe at once: the long bound only keeps a loaded machine from reading a slow answer as "no".
      expect(await acceptsMqttWithoutCertificate(iot.plainMqtt!.port, 10_000)).toBe(true);
      expect(await acceptsMqttWithoutCertificate(iot.mqtt.port)).toBe(false);
    } finally {
      await iot.close();
    }
  });
});
