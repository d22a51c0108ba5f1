/**
 * Test helpers for the sandbox IoT Core: a fresh stand-in in a temp dir, MQTT.js clients with
 * device certificates, and an inbox that awaits the next message on a topic.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import { THING_NAME_VARIABLE, type IotPolicy } from '../../core/iot-policy/policy';
import type { JsonObject } from '../../core/shadow/json';
import { startIotCore, type IotCore, type IotCoreOptions } from '../../sandbox/iot-core';

/**
 * A wider device policy than the stack deploys, for tests of the shadow service itself: every
 * request (`delete` too) on any of the thing's own shadows, and all of their replies.
 */
export const ALL_OWN_SHADOW_OPERATIONS: IotPolicy = [
  { sid: 'Connect', actions: ['iot:Connect'], resources: [{ type: 'client', name: THING_NAME_VARIABLE }], requiresAttachedThing: true },
  {
    sid: 'Requests',
    actions: ['iot:Publish'],
    resources: ['', '/name/*'].flatMap((named) =>
      ['get', 'update', 'delete'].map((op) => ({ type: 'topic' as const, name: `$aws/things/${THING_NAME_VARIABLE}/shadow${named}/${op}` })),
    ),
  },
  { sid: 'Subscribe', actions: ['iot:Subscribe'], resources: [{ type: 'topicfilter', name: `$aws/things/${THING_NAME_VARIABLE}/shadow/*` }] },
  { sid: 'Receive', actions: ['iot:Receive'], resources: [{ type: 'topic', name: `$aws/things/${THING_NAME_VARIABLE}/shadow/*` }] },
];

export interface TestIotCore extends IotCore {
  tmp: string;
}

/**
 * The CA and certificates are shared by every stand-in a test file starts (RSA key generation is
 * the slow part of a start) and removed after the file; shadows, listeners and `tmp` are per call.
 * (Vitest evaluates this module once per test file, so the hook below belongs to that file.)
 */
let sharedPki: string | undefined;
function pkiDir(): string {
  sharedPki ??= mkdtempSync(join(tmpdir(), 'shadowplug-pki-'));
  return sharedPki;
}
afterAll(() => {
  if (sharedPki) rmSync(sharedPki, { recursive: true, force: true });
  sharedPki = undefined;
});

export async function startTestIotCore(options: Partial<IotCoreOptions> = {}): Promise<TestIotCore> {
  const tmp = mkdtempSync(join(tmpdir(), 'shadowplug-iot-'));
  let iot: IotCore;
  try {
    iot = await startIotCore({ dir: pkiDir(), ...options });
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const closeIot = iot.close;
  return Object.assign(iot, {
    tmp,
    async close() {
      await closeIot();
      rmSync(tmp, { recursive: true, force: true });
    },
  });
}

/** An MQTT.js client connected over mTLS with the thing's certificate (issued on demand). */
export async function connectThing(
  iot: IotCore,
  thingName: string,
  options: { clientId?: string; cert?: { certPath: string; keyPath: string } } = {},
): Promise<MqttClient> {
  const cert = options.cert ?? iot.issueThing(thingName);
  return connectMqtt(iot.mqtt.url, {
    clientId: options.clientId ?? thingName,
    ca: iot.ca.certPem,
    cert: readFileSync(cert.certPath),
    key: readFileSync(cert.keyPath),
  });
}

/**
 * Connect MQTT.js once (no reconnect). Rejects on a refused CONNACK, a TLS alert or a close before
 * CONNACK: with TLS 1.3 the server refuses a client certificate after the client's handshake has
 * completed, which MQTT.js reports as a close rather than an error.
 */
export function connectMqtt(url: string, options: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...options });
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      client.end(true);
      reject(err);
    };
    client.once('connect', () => {
      client.off('error', fail);
      resolve(client);
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed before CONNACK')));
  });
}

/** SUBSCRIBE and return the granted QoS per filter, 128 for a refusal (MQTT.js rejects on those). */
export function subscribeGranted(client: MqttClient, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  return new Promise((resolve) => {
    const onPacket = (packet: Packet) => {
      if (packet.cmd !== 'suback') return;
      client.off('packetreceive', onPacket);
      resolve((packet as { granted: (number | object)[] }).granted.map((g) => (typeof g === 'number' ? g : 128)));
    };
    client.on('packetreceive', onPacket);
    client.subscribe(filters, { qos }, () => {});
  });
}

/** Thing names unique within a test file, so each test starts from shadows nobody has touched. */
export function thingNamer(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

export interface ShadowDevice {
  thing: string;
  client: MqttClient;
  inbox: Inbox;
  publish(topic: string, body: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** Updates to apply, in order, before a test starts (classic shadow unless `shadowName`). */
export type ShadowSeed = { state: JsonObject; shadowName?: string }[];

/** Applies `seed` to the thing's shadows; throws if the service refuses one. */
export function seedShadows(iot: IotCore, thing: string, seed: ShadowSeed): void {
  for (const { state, shadowName } of seed) {
    const result = iot.shadows.update(thing, { state }, shadowName);
    if (!result.ok) throw new Error(`seeding ${thing}${shadowName ? `/${shadowName}` : ''} failed: ${JSON.stringify(result.payload)}`);
  }
}

/**
 * A device of `thing` whose shadows were first brought to a known state by `seed` (updates applied
 * in order, each must be accepted), then connected and subscribed to all its shadow topics: the
 * seed's own messages are not in its inbox. Use a fresh thing per test (thingNamer).
 */
export async function shadowDevice(iot: IotCore, thing: string, seed: ShadowSeed = []): Promise<ShadowDevice> {
  seedShadows(iot, thing, seed);
  const client = await connectThing(iot, thing);
  const inbox = new Inbox(client);
  await client.subscribeAsync(`$aws/things/${thing}/shadow/#`, { qos: 1 });
  return {
    thing,
    client,
    inbox,
    publish: (topic, body) => client.publishAsync(topic, typeof body === 'string' ? body : JSON.stringify(body), { qos: 1 }),
    close: () => client.endAsync(true),
  };
}

/** Collects messages per topic; `next(topic)` resolves with the next one (or one already queued). */
export class Inbox {
  private readonly queues = new Map<string, unknown[]>();
  private readonly waiters = new Map<string, ((m: unknown) => void)[]>();

  constructor(client: MqttClient) {
    client.on('message', (topic, payload) => {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString());
      } catch {
        body = payload.toString();
      }
      const waiting = this.waiters.get(topic);
      if (waiting?.length) waiting.shift()!(body);
      else this.queues.set(topic, [...(this.queues.get(topic) ?? []), body]);
    });
  }

  next<T = Record<string, unknown>>(topic: string, timeoutMs = 5_000): Promise<T> {
    const queued = this.queues.get(topic);
    if (queued?.length) return Promise.resolve(queued.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(topic) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        resolve(m as T);
      });
      this.waiters.set(topic, list);
    });
  }

  /** Messages already received on `topic` and not taken. */
  pending(topic: string): unknown[] {
    return this.queues.get(topic) ?? [];
  }
}

/** MQTT 3.1.1 CONNECT, clean session, client id `probe`, no credentials. */
const CONNECT_PACKET = Buffer.from([0x10, 17, 0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 60, 0, 5, ...Buffer.from('probe')]);

/** Sends CONNECT on an open socket: true on a CONNACK with return code 0, false otherwise or after `timeoutMs`. */
function connackAccepted(socket: Socket, connected: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const finish = (accepted: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(accepted);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once(connected, () => socket.write(CONNECT_PACKET));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4) finish(got[0] === 0x20 && got[1] === 2 && got[3] === 0);
    });
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/**
 * Would `127.0.0.1:port` let an MQTT client in without a client certificate? Tries a plain TCP
 * CONNECT and a TLS CONNECT that presents no certificate (trusting any server); true when either
 * gets CONNACK 0 (accepted). Anything else (TLS refused, not MQTT, no answer) is false.
 */
export async function acceptsMqttWithoutCertificate(port: number, timeoutMs = 1_500): Promise<boolean> {
  const plain = connackAccepted(netConnect(port, '127.0.0.1'), 'connect', timeoutMs);
  const tls = connackAccepted(tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }), 'secureConnect', timeoutMs);
  const [a, b] = await Promise.all([plain, tls]);
  return a || b;
}
