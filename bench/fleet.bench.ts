/**
 * Fleets: `npm run bench -- fleet`.
 * 1. The sandbox with its devices in one thing group (every upload through the group look-up and
 *    the queued fan-out): 1 MB uploads, each until every device verified it, 200 then 1,000 devices.
 * 2. The fan-out alone, 10,000 things: shadow writes per second at the default rate, at 4,000/s,
 *    and at 4,000/s against a data plane that answers 429 above 1,000/s; every shadow checked.
 * 3. The object function's peak RSS resolving a 10,000-thing group and enqueueing its batches.
 *   FLEET_SIZES=200,1000 (empty: no sandbox runs) FLEET_FANOUT_THINGS=10000 FLEET_SKIP_DEFAULT_RATE=1 (skip the ~100 s run)
 *   FLEET_SKIP_FANOUT=1 (no fan-out runs) FLEET_AGENT_THREADS=0,1 (the sizes with each count of agent threads)
 *   FLEET_UPLOADS=3 (uploads per sandbox; the ratio of their medians) FLEET_PROFILE=<dir> (a .cpuprofile of this process per delivery)
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/logger';
import { batchesOf } from '../core/fleet/message';
import { FLEET_DEFAULTS } from '../core/fleet/settings';
import { startIotCore } from '../sandbox/iot-core';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { Teardown } from '../sandbox/teardown';
import { wireFanOut } from '../sandbox/wire-fanout';
import type { SandboxEvent } from '../sandbox/event-log';
import { startMotoServer } from '../test/helpers/s3-peers';
import { median, procCpuSeconds } from './stats';

const MB = 1 << 20;
const SIZES = (process.env.FLEET_SIZES ?? '200,1000').split(',').filter((n) => n !== '').map(Number);
/** Agent worker threads per run (`FLEET_AGENT_THREADS=0,1`: each size with each; default the sandbox's choice). */
const THREADS = (process.env.FLEET_AGENT_THREADS ?? '').split(',').filter((n) => n !== '').map(Number);
const FANOUT_THINGS = Number(process.env.FLEET_FANOUT_THINGS ?? 10_000);
/** Uploads per sandbox run; the ratio is taken of their medians (one delivery to 200 devices lasts ~1.4 s, where a second of another process's CPU shows). */
const UPLOADS = Math.max(1, Number(process.env.FLEET_UPLOADS ?? 3));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** CPU seconds so far: the whole process (every thread) and its main thread alone (Linux; else 0). */
function cpuSeconds(): { total: number; main: number } {
  const { user, system } = process.cpuUsage();
  return { total: (user + system) / 1e6, main: procCpuSeconds(`/proc/self/task/${process.pid}/stat`) };
}

/** With FLEET_PROFILE, profiles this process until the returned function writes `<dir>/<name>.cpuprofile`. */
async function startProfile(): Promise<((name: string) => Promise<void>) | undefined> {
  const dir = process.env.FLEET_PROFILE;
  if (!dir) return undefined;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (name) => {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

interface Delivery {
  deliverMs: number;
  /** Events during the delivery other than each device's progress, installed and reported (device errors, notifications, ...). */
  others: Record<string, number>;
  peakRssMb: number;
  cpu: { total: number; main: number };
}

/** One 1 MB upload until every device reported its hash. */
async function deliver(sandbox: Sandbox, names: string[], profileName: string): Promise<Delivery> {
  const body = randomBytes(MB);
  const t0 = performance.now();
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const profile = await startProfile();
  const cpu0 = cpuSeconds();
  const others: Record<string, number> = {};
  const tally = (e: SandboxEvent) => void (['progress', 'installed', 'reported', 'desired'].includes(e.type) || (others[e.type] = (others[e.type] ?? 0) + 1));
  sandbox.events.on('event', tally);
  const { sha256 } = await sandbox.upload('fleet.bin', body);
  // One listener for the whole fleet (a waiter per device would make the harness O(n²)).
  await new Promise<void>((resolve, reject) => {
    const left = new Set(names);
    const timer = setTimeout(() => reject(new Error(`${left.size} of ${names.length} devices did not verify within 120 s`)), 120_000);
    const on = (e: SandboxEvent) => {
      if (e.type === 'reported' && e.hash === sha256 && left.delete(e.thing) && left.size === 0) {
        clearTimeout(timer);
        sandbox.events.off('event', on);
        resolve();
      }
    };
    sandbox.events.on('event', on);
  });
  clearInterval(sampler);
  sandbox.events.off('event', tally);
  const cpu1 = cpuSeconds();
  await profile?.(profileName);
  return { others, deliverMs: performance.now() - t0, peakRssMb: peak / MB, cpu: { total: cpu1.total - cpu0.total, main: cpu1.main - cpu0.main } };
}

/** One sandbox of `devices` devices, UPLOADS uploads one after another (each a new version of one key). */
async function sandboxRun(work: string, devices: number, agentThreads?: number): Promise<{ startMs: number; deliveries: Delivery[] }> {
  const t0 = performance.now();
  const name = `fleet-${devices}-${agentThreads ?? 'auto'}`;
  const sandbox = await startSandbox({ dir: join(work, name), devices, group: 'fleet', writeInfoFile: false, ...(agentThreads !== undefined ? { agentThreads } : {}) });
  const startMs = performance.now() - t0;
  try {
    const names = sandbox.info.things.map((t) => t.name);
    const deliveries: Delivery[] = [];
    for (let i = 0; i < UPLOADS; i++) deliveries.push(await deliver(sandbox, names, `${name}-${i + 1}`));
    return { startMs, deliveries };
  } finally {
    await sandbox.close();
  }
}

interface FanOutResult {
  label: string;
  seconds: number;
  rate: number;
  throttles: number;
  lost: number;
}

async function fanOutRun(work: string, label: string, ratePerSecond: number, dataPlaneLimit?: number): Promise<FanOutResult> {
  const iot = await startIotCore({ dir: join(work, 'pki'), ...(dataPlaneLimit ? { dataPlaneRatePerSecond: dataPlaneLimit } : {}) });
  const teardown = new Teardown(silentLogger);
  teardown.add('iot', () => iot.close());
  try {
    const things = Array.from({ length: FANOUT_THINGS }, (_, i) => `fleet-${i}`);
    let throttles = 0;
    let t0 = 0;
    const done = new Promise<void>((resolve) => {
      const fanOut = wireFanOut(iot, { property: 's3', ratePerSecond, logger: silentLogger, writeMetrics: (line) => (throttles += Number(JSON.parse(line).FanOutThrottles ?? 0)) }, (e) => e.type === 'notification' && resolve(), teardown);
      const hash = 'ab'.repeat(32);
      const change = { kind: 'created' as const, eventName: 'ObjectCreated:Put', bucket: 'bench', key: `fw-${label}.bin`, sequencer: '0A', eventTime: new Date().toISOString(), size: MB, eTag: 'e' };
      t0 = performance.now();
      void fanOut.enqueue(batchesOf(change, { exists: true, size: MB, eTag: 'e' }, hash, things));
    });
    await done;
    const seconds = (performance.now() - t0) / 1000;
    const lost = things.filter((t) => (iot.shadows.get(t) as { state?: { desired?: { s3?: { hash?: string } } } } | undefined)?.state?.desired?.s3?.hash !== 'ab'.repeat(32)).length;
    return { label, seconds, rate: FANOUT_THINGS / seconds, throttles, lost };
  } finally {
    await teardown.close();
  }
}

interface ObjectFunctionRss {
  rssMb: number;
  /** Its peak before the handler ran (Node, tsx, the SDK clients loaded; S3 bucket and queue made). */
  baseRssMb: number;
  batches: number;
  ms: number;
}

/** The object function in a process of its own: resolve the group, hash, enqueue; its peak RSS. */
async function objectFunctionRss(work: string): Promise<ObjectFunctionRss> {
  const iot = await startIotCore({ dir: join(work, 'pki-rss'), thingGroups: [{ name: 'big', things: Array.from({ length: FANOUT_THINGS }, (_, i) => `fleet-${i}`) }] });
  const moto = await startMotoServer();
  try {
    const child = fork(join(import.meta.dirname, 'fleet-object-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_CONTROL_PLANE: iot.controlPlane.endpoint, BENCH_CA: iot.ca.certPath, BENCH_MOTO: moto.endpoint, BENCH_DIR: join(work, 'rss-s3') },
    });
    return await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m as ObjectFunctionRss));
      child.once('exit', (code) => code !== 0 && reject(new Error(`object function process exited ${code}`)));
    });
  } finally {
    await moto.close();
    await iot.close();
  }
}

/** Every size, one after another, then the ratio of the last to the first (of the median deliveries, and of the first ones). */
async function sandboxRuns(work: string, threads: number | undefined): Promise<void> {
  const runs: { devices: number; first: number; median: number }[] = [];
  const label = threads === undefined ? '' : `, ${threads} agent thread${threads === 1 ? '' : 's'}`;
  for (const devices of SIZES) {
    const load = loadavg()[0]!.toFixed(1);
    const { startMs, deliveries } = await sandboxRun(work, devices, threads);
    const times = deliveries.map((d) => d.deliverMs);
    runs.push({ devices, first: times[0]!, median: median(times) });
    console.log(`sandbox, ${devices} devices${label}: start ${s(startMs)} (load ${load}); 1 MB upload → all ${devices} verified:`);
    for (const [i, d] of deliveries.entries()) {
      console.log(`  upload ${i + 1}: ${s(d.deliverMs)}, CPU ${d.cpu.total.toFixed(2)} s (main thread ${d.cpu.main.toFixed(2)} s); peak RSS ${d.peakRssMb.toFixed(0)} MB; ${Object.entries(d.others).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
  }
  if (runs.length >= 2) {
    const [a, b] = [runs[0]!, runs.at(-1)!];
    const x = (u: number, v: number) => `${(v / u).toFixed(2)}×`;
    console.log(`ratio ${b.devices}/${a.devices} devices${label} (devices ×${(b.devices / a.devices).toFixed(1)}): median of ${UPLOADS} uploads ${s(a.median)} → ${s(b.median)} ${x(a.median, b.median)}; first upload ${x(a.first, b.first)}`);
  }
}

async function fanOuts(work: string): Promise<void> {
  const results: FanOutResult[] = [];
  if (!process.env.FLEET_SKIP_DEFAULT_RATE) results.push(await fanOutRun(work, `default ${FLEET_DEFAULTS.ratePerSecond}/s`, FLEET_DEFAULTS.ratePerSecond));
  results.push(await fanOutRun(work, '4000/s', 4000));
  results.push(await fanOutRun(work, '4000/s, data plane throttles above 1000/s', 4000, 1000));
  console.log(`\nfan-out of ${FANOUT_THINGS} things through the queue and the worker, against the sandbox data plane:`);
  for (const r of results) {
    console.log(`  ${r.label.padEnd(44)} ${r.rate.toFixed(0).padStart(6)} writes/s  ${r.seconds.toFixed(1).padStart(6)} s  429s answered ${String(r.throttles).padStart(5)}  lost ${r.lost}`);
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'shadowplug-bench-fleet-'));
  try {
    for (const threads of THREADS.length > 0 ? THREADS : [undefined]) await sandboxRuns(work, threads);
    if (!process.env.FLEET_SKIP_FANOUT) await fanOuts(work);
    const rss = await objectFunctionRss(work);
    console.log(`\nobject function, ${FANOUT_THINGS}-thing group → ${rss.batches} batches on SQS (moto) in ${s(rss.ms)}: peak RSS ${rss.rssMb.toFixed(0)} MB (${rss.baseRssMb.toFixed(0)} MB before the handler ran)`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
