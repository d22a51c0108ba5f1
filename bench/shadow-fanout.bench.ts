/**
 * `npm run bench -- shadow-fanout` (SHADOW_FANOUT_THINGS=500 SHADOW_FANOUT_UPDATES=20): N things,
 * each an MQTT/TLS client subscribed to its `update/delta`, each updated K times through the
 * data-plane HTTP API with the AWS SDK; updates/s and update → delta latency. The peer: the same
 * deltas published straight into the broker, so the ratio is what the HTTP API and the shadow
 * model cost on top of aedes' own delivery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { mapLimit } from '../core/util/map-limit';
import { startIotCore } from '../sandbox/iot-core';
import { shadowTopics } from '../core/shadow/topics';
import { quantile } from './stats';

const THINGS = Number(process.env.SHADOW_FANOUT_THINGS ?? 500);
const UPDATES = Number(process.env.SHADOW_FANOUT_UPDATES ?? 20);
const CONCURRENCY = Number(process.env.SHADOW_FANOUT_CONCURRENCY ?? 32);

interface Result {
  label: string;
  seconds: number;
  rate: number;
  median: number;
  p99: number;
}

function rawUpdate(agent: Agent, port: number, thing: string, seq: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ state: { desired: { seq } } });
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: `/things/${thing}/shadow`, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'shadowplug-bench-fanout-'));
  const things = Array.from({ length: THINGS }, (_, i) => `bench-thing-${i}`);
  const setupStart = performance.now();
  const iot = await startIotCore({ dir: join(tmp, 'pki'), things, sharedDeviceKey: true, plainMqttPort: 0 });
  const certs = things.map((t) => iot.issueThing(t));
  console.log(`setup: CA + ${THINGS} certificates in ${((performance.now() - setupStart) / 1000).toFixed(1)} s`);

  // Pending deltas: "thing/seq" → resolve(receivedAt).
  const waiting = new Map<string, (t: number) => void>();
  const clients: MqttClient[] = [];
  const connectStart = performance.now();
  await mapLimit(Array.from({ length: THINGS }, (_, i) => i), 16, async (i) => {
    const client = await mqtt.connectAsync(iot.mqtt.url, {
      clientId: things[i],
      ca: iot.ca.certPem,
      cert: certs[i]!.certPem,
      key: certs[i]!.keyPem,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    client.on('message', (_topic, payload) => {
      const at = performance.now();
      const body = JSON.parse(payload.toString()) as { state: { seq?: number } };
      waiting.get(`${things[i]}/${body.state.seq}`)?.(at);
    });
    await client.subscribeAsync(shadowTopics(things[i]!).updateDelta, { qos: 0 });
    clients.push(client);
  });
  console.log(`setup: ${THINGS} MQTT/TLS clients connected and subscribed in ${((performance.now() - connectStart) / 1000).toFixed(1)} s`);

  const run = async (label: string, send: (thing: string, seq: number) => Promise<void>): Promise<Result> => {
    const latencies: number[] = [];
    const total = THINGS * UPDATES;
    const start = performance.now();
    // Update j of every thing before update j+1 of any: each thing sees its updates in order.
    await mapLimit(Array.from({ length: total }, (_, i) => i), CONCURRENCY, async (n) => {
      const thing = things[n % THINGS]!;
      const seq = Math.floor(n / THINGS) + 1;
      const key = `${thing}/${seq}`;
      const received = new Promise<number>((resolve) => waiting.set(key, resolve));
      const t0 = performance.now();
      await send(thing, seq);
      latencies.push((await received) - t0);
      waiting.delete(key);
    });
    const seconds = (performance.now() - start) / 1000;
    return { label, seconds, rate: total / seconds, median: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
  };

  const sdk = iot.createDataPlaneClient();
  const ours = await run('HTTP UpdateThingShadow → delta (sandbox)', async (thing, seq) => {
    await sdk.send(new UpdateThingShadowCommand({ thingName: thing, payload: Buffer.from(JSON.stringify({ state: { desired: { seq } } })) }));
  });

  // The same requests without the SDK (no signing, no middleware): what the server itself costs.
  const agent = new Agent({ ca: iot.ca.certPem, keepAlive: true, maxSockets: CONCURRENCY });
  const raw = await run('HTTP POST (raw https, no SDK) → delta', (thing, seq) => rawUpdate(agent, iot.dataPlane.port, thing, seq));
  agent.destroy();

  const publisher = await mqtt.connectAsync(iot.plainMqtt!.url, { clientId: 'bench-publisher', protocolVersion: 4, reconnectPeriod: 0 });
  const peer = await run('MQTT publish → delivery (aedes alone)', async (thing, seq) => {
    const body = { state: { seq }, version: seq, timestamp: Math.floor(Date.now() / 1000), metadata: { seq: { timestamp: 0 } } };
    await publisher.publishAsync(shadowTopics(thing).updateDelta, JSON.stringify(body), { qos: 0 });
  });

  console.log(`\n${THINGS} things × ${UPDATES} updates, ${CONCURRENCY} in flight, node ${process.version}`);
  for (const r of [ours, raw, peer]) {
    console.log(
      `${r.label.padEnd(44)} ${r.rate.toFixed(0).padStart(7)} updates/s   median ${r.median.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   (${r.seconds.toFixed(1)} s)`,
    );
  }
  console.log(`ratio SDK/raw HTTP: throughput ×${(ours.rate / raw.rate).toFixed(2)}, median latency ×${(ours.median / raw.median).toFixed(2)}`);
  console.log(
    `ratio sandbox/aedes: throughput ×${(ours.rate / peer.rate).toFixed(2)}, median latency ×${(ours.median / peer.median).toFixed(2)}, p99 ×${(ours.p99 / peer.p99).toFixed(2)}`,
  );
  const mem = process.memoryUsage();
  console.log(`memory: rss ${(mem.rss / 1048576).toFixed(0)} MB, heap ${(mem.heapUsed / 1048576).toFixed(0)} MB (broker, ${THINGS} clients and both servers in one process)`);

  sdk.destroy();
  await publisher.endAsync(true);
  await Promise.all(clients.map((c) => c.endAsync(true)));
  const closeStart = performance.now();
  await iot.close();
  console.log(`close(): ${(performance.now() - closeStart).toFixed(0)} ms`);
  rmSync(tmp, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
