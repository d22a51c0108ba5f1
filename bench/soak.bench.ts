/**
 * Long-running health of one agent: `npm run bench -- soak [--deltas=N] [--restarts=N] [--polls=N]`
 * (defaults 10,000 deltas, 500 broker restarts or connection cuts, 1,000 plug polls). Each delta is
 * a small upload in `desired.s3` (every 10th with a wrong hash, failing on purpose), answered
 * before the next; between deltas the connection is cut or the broker restarted, alternately; a
 * simulated plug is polled throughout. Targets, after a warm-up of a tenth of the deltas: RSS
 * growth <= 5 MB, no growth in FDs, timers or listeners, every delta answered.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startIotCore, type IotCore, type IotCoreOptions } from '../sandbox/iot-core';
import { startLocalS3 } from '../sandbox/local-s3';
import { CLASSIC_SHADOW, devicePolicy } from '../core/iot-policy/device-policy';
import { startTcpProxy } from '../test/helpers/agent-tcp-proxy';
import { startSimulatedPlug } from '../test/helpers/tplink-simulator';
import { sha256 } from '../test/helpers/agent-fixtures';
import type { SoakStats } from './soak-agent-process';
import { ask } from './stats';

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : fallback;
}
const DELTAS = flag('deltas', 10_000);
const RESTARTS = flag('restarts', 500);
const POLLS = flag('polls', 1_000);
const DELTA_TIMEOUT_MS = 30_000;
const THING = 'soak-hub';
const BUCKET = 'soak';

const timers = (s: SoakStats) => s.resources.Timeout ?? 0;
const line = (what: string, s: SoakStats) =>
  `${what.padEnd(6)} rss ${s.rssMb.toFixed(1)} MB  heap ${s.heapMb.toFixed(1)} MB  fds ${s.fds}  timers ${timers(s)}  listeners ${s.listeners}  resources ${JSON.stringify(s.resources)}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'soak-'));
  const iotOptions: IotCoreOptions = { dir: join(dir, 'iot'), dataDir: join(dir, 'iot-data'), things: [THING], devicePolicy: devicePolicy({ shadows: [CLASSIC_SHADOW, { kind: 'named-prefix', prefix: 'plug-' }] }) };
  let iot: IotCore = await startIotCore(iotOptions);
  const ports = { mqttPort: iot.mqtt.port, credentialsPort: iot.credentialsProvider.port, dataPlanePort: iot.dataPlane.port };
  const s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
  const mqttProxy = await startTcpProxy(iot.mqtt.port);
  const admin = s3.createClient();
  const plug = await startSimulatedPlug('hs100');
  const cert = iot.issueThing(THING);
  const options = {
    endpoint: '127.0.0.1', port: mqttProxy.port, cert: cert.certPath, key: cert.keyPath, caFile: iot.ca.certPath, thingName: THING,
    credentialEndpoint: iot.credentialsProvider.endpoint, s3Endpoint: `http://127.0.0.1:${s3.port}`, region: s3.region,
    dest: join(dir, 'dest'), stateDir: join(dir, 'state'), retry: { initialMs: 20, maxMs: 200 }, reconnect: { initialMs: 20, maxMs: 200 },
    requestTimeoutMs: 3000, plugs: [{ id: 'kettle', hub: THING, host: plug.host, port: plug.port }], plugPollMs: 100,
  };
  const child = fork(join(import.meta.dirname, 'soak-agent-process.ts'), [], { execArgv: ['--import', 'tsx', '--expose-gc'], env: { ...process.env, SOAK_AGENT: JSON.stringify(options) } });
  const t0 = performance.now();
  try {
    if ((await new Promise((r) => child.once('message', r))) !== 'ready') throw new Error('agent did not start');
    const reported = () => (iot.shadows.get(THING) as { state?: { reported?: { s3?: { hash?: string; error?: { hash?: string } } } } } | undefined)?.state?.reported?.s3;
    const answered = async (hash: string) => {
      const deadline = Date.now() + DELTA_TIMEOUT_MS;
      for (;;) {
        const r = reported();
        if (r?.hash === hash || r?.error?.hash === hash) return;
        if (Date.now() > deadline) throw new Error(`delta for ${hash} not answered within ${DELTA_TIMEOUT_MS} ms`);
        await new Promise((res) => setTimeout(res, 2));
      }
    };
    const warmUp = Math.max(20, Math.floor(DELTAS / 10));
    const cutEvery = RESTARTS > 0 ? Math.max(1, Math.floor(DELTAS / RESTARTS)) : Infinity;
    let start: SoakStats | undefined;
    let cuts = 0;
    let failing = 0;
    for (let i = 1; i <= DELTAS; i++) {
      const body = Buffer.from(`soak delta ${i}\n`);
      const key = `soak-${i % 16}.txt`;
      await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
      const fail = i % 10 === 0;
      if (fail) failing++;
      const hash = fail ? sha256(`not ${i}`) : sha256(body);
      iot.shadows.update(THING, { state: { desired: { s3: { url: `s3://${BUCKET}/${key}`, hash, size: body.length } } } });
      if (i % cutEvery === 0 && cuts < RESTARTS) {
        cuts++;
        if (cuts % 2 === 0) {
          await iot.close();
          iot = await startIotCore({ ...iotOptions, ...ports });
        } else mqttProxy.cutAll();
      }
      await answered(hash);
      if (i === warmUp) start = await ask<SoakStats>(child, 'stats');
    }
    // The polls the run asked for (the plug is polled every 100 ms throughout).
    for (let s = await ask<SoakStats>(child, 'stats'); s.polls < POLLS; s = await ask<SoakStats>(child, 'stats')) await new Promise((r) => setTimeout(r, 200));
    const end = await ask<SoakStats>(child, 'stats');
    start ??= end;
    const seconds = (performance.now() - t0) / 1000;
    console.log(`soak: ${DELTAS} deltas (${failing} failing on purpose), ${cuts} cuts/restarts (half broker restarts), ${end.polls} plug polls in ${seconds.toFixed(1)} s; every delta answered`);
    console.log(line('start', start));
    console.log(line('end', end));
    const growth = end.rssMb - start.rssMb;
    console.log(`growth: rss ${growth.toFixed(1)} MB (target <= 5), fds ${end.fds - start.fds}, timers ${timers(end) - timers(start)}, listeners ${end.listeners - start.listeners}`);
    if (growth > 5 || end.fds > start.fds || timers(end) > timers(start) || end.listeners > start.listeners) {
      console.log('soak: OVER TARGET');
      process.exitCode = 1;
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.send('stop');
    const timer = setTimeout(() => child.kill(), 15_000);
    await exited;
    clearTimeout(timer);
    admin.destroy();
    await plug.stop();
    await mqttProxy.close();
    await iot.close();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
