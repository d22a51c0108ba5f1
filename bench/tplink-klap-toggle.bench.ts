/**
 * Toggle a simulated Tapo P110 (SMART over KLAP v2) on 127.0.0.1: shadowplug's plugAction vs
 * python-kasa's SmartProtocol + KlapTransportV2, each reading the relay and setting it the other way.
 *  - warm: the session is established (ours: one session cache; theirs: one protocol)
 *  - cold: a handshake per toggle (ours: a fresh session cache; theirs: a new protocol)
 * Fair by construction: the device and each client run in processes of their own, both clients
 * are long-lived and time themselves (bench/tplink-toggle-peer.ts, bench/kasa_toggle.py, one
 * protocol over stdin/stdout), and their rounds are interleaved (ABBA). Warm-up rounds are
 * discarded; the device counts round trips. Warm is measured early (while V8 still compiles ours)
 * and steady (after BURN_IN toggles per client).
 * Targets: warm ≤ 2, cold ≤ 4 round trips per toggle (the run fails otherwise); ours ≤ 0.5 × peer (reported).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { DeviceServerStats } from '../sandbox/plugs/http-device-server';
import { ask, median, ms as fmtMs, quantile } from './stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 100);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 10);
const WARMUP_ROUNDS = 6;
/**
 * Warm toggles each client makes, unmeasured, between the early and the steady warm rounds: our
 * client runs on V8, whose compilers take a few thousand toggles to settle (docs/performance.md).
 */
const BURN_IN = Number(process.env.BENCH_BURN_IN ?? 3000);
const credentials = { username: 'bench@example.com', password: 'bench-password' };
const file = (path: string) => fileURLToPath(new URL(path, import.meta.url));

type Mode = 'warm' | 'cold' | 'detect';
interface RoundResult {
  times: number[];
  cpu: number;
}

/** A long-lived client process answering one JSON line per command. */
class Peer {
  private readonly lines: AsyncIterator<string>;
  private readonly input: Interface;
  private readonly child: ChildProcess;

  constructor(readonly name: string, command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.input = createInterface({ input: this.child.stdout! });
    this.lines = this.input[Symbol.asyncIterator]();
    this.child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
  }

  async round(mode: Mode, n: number): Promise<RoundResult> {
    this.child.stdin!.write(`${JSON.stringify({ mode, n })}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`${this.name} ended before answering a ${mode} round`);
    return JSON.parse(next.value) as RoundResult;
  }

  async quit(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end(`${JSON.stringify({ quit: true })}\n`);
    await exited;
    this.input.close();
  }
}

/** The P110 runs in its own process, as a real plug does not share the client's thread. */
function startDeviceProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(file('./simulated-device-process.ts'), ['p110-klap', credentials.username, credentials.password], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve) => child.once('message', (m) => resolve({ child, port: (m as { port: number }).port })));
}

/** The device's counters and its process's CPU time so far. */
async function deviceStats(child: ChildProcess): Promise<{ http: number; connections: number; cpuMs: number }> {
  const { stats, cpuMs } = await ask<{ stats: DeviceServerStats; cpuMs: number }>(child, 'stats');
  return { http: stats.http, connections: stats.connections, cpuMs };
}

const ms = (x: number) => fmtMs(x, 3);

interface Measured {
  times: number[];
  cpu: number;
  trips: number;
  /** TCP connections the device accepted. */
  connections: number;
  /** The device process's CPU time during this client's rounds. */
  deviceCpu: number;
  /** Each measured round's median, in order (paired with the other client's). */
  roundMedians: number[];
}

const { child: device, port } = await startDeviceProcess();
const target = JSON.stringify({ host: '127.0.0.1', port, ...credentials });
const ours = new Peer('shadowplug', process.execPath, ['--import', 'tsx', file('./tplink-toggle-peer.ts'), target]);
const theirs = new Peer('python-kasa', file('../.venv/bin/python'), [file('./kasa_toggle.py'), target]);

async function measure(peer: Peer, mode: Mode, into: Measured | undefined): Promise<void> {
  const before = await deviceStats(device);
  const result = await peer.round(mode, PER_ROUND);
  const after = await deviceStats(device);
  if (!into) return;
  into.times.push(...result.times);
  into.cpu += result.cpu;
  into.trips += after.http - before.http;
  into.connections += after.connections - before.connections;
  into.deviceCpu += after.cpuMs - before.cpuMs;
  into.roundMedians.push(median(result.times));
}

const fresh = (): Measured => ({ times: [], cpu: 0, trips: 0, connections: 0, deviceCpu: 0, roundMedians: [] });

/** Interleaved rounds, alternating who goes first (ABBA), the first `warmup` rounds discarded. */
async function compare(mode: 'warm' | 'cold', warmup = WARMUP_ROUNDS): Promise<[Measured, Measured]> {
  const mine = fresh();
  const peer = fresh();
  for (let r = 0; r < warmup + ROUNDS; r++) {
    const measured = r >= warmup;
    const pair: [Peer, Measured][] = [
      [ours, mine],
      [theirs, peer],
    ];
    if (r % 2 === 1) pair.reverse();
    for (const [client, into] of pair) await measure(client, mode, measured ? into : undefined);
  }
  return [mine, peer];
}

function report(label: string, m: Measured, tripTarget?: number): void {
  const n = m.times.length;
  const target = tripTarget === undefined ? '' : ` (target ≤ ${tripTarget})`;
  console.log(
    `  ${label.padEnd(26)} median ${ms(median(m.times))}  p95 ${ms(quantile(m.times, 0.95))}  ` +
      `CPU ${ms(m.cpu / n)}/toggle (device ${ms(m.deviceCpu / n)})  round trips/toggle ${(m.trips / n).toFixed(2)}${target}, connections ${(m.connections / n).toFixed(2)}`,
  );
}

console.log(
  `toggle of a simulated P110 (SMART over KLAP v2) on 127.0.0.1: ${ROUNDS} interleaved rounds of ${PER_ROUND} toggles ` +
    `per client after ${WARMUP_ROUNDS} warm-up rounds; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
let failed = false;
function compared(label: string, [mine, peer]: [Measured, Measured], tripTarget: number): void {
  const ratio = median(mine.times) / median(peer.times);
  const paired = median(mine.roundMedians.map((m, i) => m / peer.roundMedians[i]!));
  console.log(`${label}:`);
  report('shadowplug plugAction', mine, tripTarget);
  report('python-kasa SmartProtocol', peer);
  console.log(`  ratio ours/peer: medians ${ratio.toFixed(3)}, p95 ${(quantile(mine.times, 0.95) / quantile(peer.times, 0.95)).toFixed(3)}, ` +
    `median of paired rounds ${paired.toFixed(3)}, CPU ${(mine.cpu / peer.cpu).toFixed(3)}  target ≤ 0.5: ${ratio <= 0.5 ? 'met' : 'NOT met'}`);
  if (mine.trips / mine.times.length > tripTarget) failed = true;
}
compared(`warm, early (a process's first ${(WARMUP_ROUNDS + ROUNDS) * PER_ROUND} toggles, the first ${WARMUP_ROUNDS * PER_ROUND} discarded)`, await compare('warm'), 2);
compared('cold', await compare('cold'), 4);
await ours.round('warm', BURN_IN);
await theirs.round('warm', BURN_IN);
compared(`warm, steady (after ${BURN_IN} more warm toggles per client)`, await compare('warm', 0), 2);
const detect = fresh();
for (let r = 0; r < 1 + Math.ceil(ROUNDS / 4); r++) await measure(ours, 'detect', r === 0 ? undefined : detect);
console.log('cold with detection (no --protocol; XOR refused, then KLAP), ours only:');
report('shadowplug plugAction', detect);
console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

await Promise.all([ours.quit(), theirs.quit()]);
device.send('close');
await new Promise((resolve) => device.once('exit', resolve));
if (failed) process.exit(1);
