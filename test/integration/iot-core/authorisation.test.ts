/**
 * The policy of the MQTT listener: mutual TLS with the sandbox CA, client id = CN, and the device
 * policy the stack deploys (core/iot-policy/device-policy.ts): its own shadow's requests and
 * replies only; every refusal logged.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { CertificateAuthority } from '../../../sandbox/iot/certificate-authority';
import { connectMqtt, connectThing, startTestIotCore, subscribeGranted, type TestIotCore } from '../../helpers/iot-core-clients';

describe('MQTT authorisation', () => {
  let iot: TestIotCore;
  const logLines: string[] = [];
  let otherCaDir: string;

  beforeAll(async () => {
    iot = await startTestIotCore({
      things: ['lamp-1', 'lamp-2'],
      buttons: ['G030JF0512345678'],
      logger: createLogger({ level: 'warn', json: true, write: (l) => logLines.push(l) }),
    });
    otherCaDir = mkdtempSync(join(tmpdir(), 'shadowplug-other-ca-'));
  });

  afterAll(async () => {
    await iot?.close();
    rmSync(otherCaDir, { recursive: true, force: true });
  });

  const logged = (message: string) => logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === message);

  it('refuses a client without a certificate at the TLS handshake', async () => {
    await expect(
      connectMqtt(iot.mqtt.url, { clientId: 'lamp-1', ca: iot.ca.certPem }),
    ).rejects.toThrow();
    await expect.poll(() => logged('mqtt TLS handshake refused').length).toBeGreaterThan(0);
  });

  it('refuses a certificate issued by another CA', async () => {
    const other = CertificateAuthority.open(otherCaDir).issueThing('lamp-1');
    const before = logged('mqtt TLS handshake refused').length;
    await expect(connectThing(iot, 'lamp-1', { cert: other })).rejects.toThrow();
    await expect.poll(() => logged('mqtt TLS handshake refused').length).toBeGreaterThan(before);
  });

  it('refuses a client id that differs from the certificate CN', async () => {
    const cert = iot.issueThing('lamp-1');
    await expect(connectThing(iot, 'lamp-1', { cert, clientId: 'lamp-2' })).rejects.toThrow(/Not authorized/i);
    expect(logged('mqtt connection refused: client id must equal the certificate CN')).toContainEqual(
      expect.objectContaining({ clientId: 'lamp-2', commonName: 'lamp-1' }),
    );
  });

  it("refuses a subscription to another thing's topics and grants its own", async () => {
    const client = await connectThing(iot, 'lamp-1');
    try {
      const granted = await subscribeGranted(client, ['$aws/things/lamp-2/shadow/update/delta', '$aws/things/lamp-1/shadow/#', '#', 'iotbutton/+']);
      expect(granted).toEqual([128, 1, 128, 128]);
      expect(logged('mqtt subscription refused by policy')).toContainEqual(expect.objectContaining({ clientId: 'lamp-1', topic: '$aws/things/lamp-2/shadow/update/delta' }));
    } finally {
      await client.endAsync(true);
    }
  });

  it("disconnects a client that publishes to another thing's topics", async () => {
    const client = await connectThing(iot, 'lamp-1');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('$aws/things/lamp-2/shadow/update', JSON.stringify({ state: { desired: { on: true } } }), { qos: 1 });
    await closed;
    expect(iot.shadows.get('lamp-2')).toBeUndefined();
    expect(logged('mqtt publish refused by policy')).toContainEqual(expect.objectContaining({ clientId: 'lamp-1', topic: '$aws/things/lamp-2/shadow/update' }));
    client.end(true);
  });

  it('disconnects a client that publishes on a shadow response topic, even its own', async () => {
    const client = await connectThing(iot, 'lamp-1');
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish('$aws/things/lamp-1/shadow/update/delta', JSON.stringify({ state: { on: true }, version: 99 }), { qos: 1 });
    await closed;
    client.end(true);
  });

  it('disconnects a thing that publishes a click or deletes its own shadow, as the deployed policy does', async () => {
    for (const [topic, body] of [
      ['iotbutton/G030JF0512345678', '{"clickType":"SINGLE"}'],
      ['$aws/things/lamp-1/shadow/delete', ''],
    ] as const) {
      const client = await connectThing(iot, 'lamp-1');
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish(topic, body, { qos: 1 });
      await closed;
      client.end(true);
      expect(logged('mqtt publish refused by policy')).toContainEqual(expect.objectContaining({ clientId: 'lamp-1', topic }));
    }
  });

  it('does not deliver what the policy does not let a thing receive, and keeps it connected', async () => {
    const thing = 'receive-less';
    const noReceive = devicePolicy({ shadows: [CLASSIC_SHADOW] }).filter((st) => !st.actions.includes('iot:Receive'));
    const strict = await startTestIotCore({ things: [thing], devicePolicy: noReceive, logger: createLogger({ level: 'warn', json: true, write: (l) => logLines.push(l) }) });
    try {
      const client = await connectThing(strict, thing);
      const received: string[] = [];
      client.on('message', (topic) => received.push(topic));
      expect(await subscribeGranted(client, [`$aws/things/${thing}/shadow/get/rejected`])).toEqual([1]);
      await client.publishAsync(`$aws/things/${thing}/shadow/get`, '', { qos: 1 });
      await expect.poll(() => logged('mqtt delivery refused by policy')).toContainEqual(
        expect.objectContaining({ clientId: thing, topic: `$aws/things/${thing}/shadow/get/rejected` }),
      );
      expect(received).toEqual([]);
      expect(client.connected).toBe(true);
      await client.endAsync(true);
    } finally {
      await strict.close();
    }
  });

  it('lets a button publish on its own iotbutton topic only', async () => {
    const button = iot.issueButton('G030JF0512345678');
    expect(button.clientId).toBe('iotbutton_G030JF0512345678');
    const client = await connectMqtt(iot.mqtt.url, {
      clientId: button.clientId,
      ca: iot.ca.certPem,
      cert: readFileSync(button.certPath),
      key: readFileSync(button.keyPath),
    });
    try {
      await client.publishAsync('iotbutton/G030JF0512345678', '{"clickType":"SINGLE"}', { qos: 1 });
      expect(await subscribeGranted(client, ['iotbutton/#'])).toEqual([128]);
      const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
      client.publish('iotbutton/SOMEONE_ELSE', '{"clickType":"SINGLE"}', { qos: 1 });
      await closed;
    } finally {
      client.end(true);
    }
  });
});
