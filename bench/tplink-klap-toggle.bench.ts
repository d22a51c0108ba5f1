/**
 * Toggle a simulated Tapo P110 (SMART over KLAP v2, sandbox/plugs) on 127.0.0.1: shadowplug's
 * plugAction vs python-kasa's library (SmartProtocol + KlapTransportV2, one Python process per
 * mode, bench/kasa_toggle.py), doing the same work: read the relay, set it the other way.
 *  - warm: the session is established (ours: the per-device session cache; theirs: one protocol)
 *  - cold: a handshake per toggle (ours: a fresh session cache; theirs: a new protocol)
 * The device runs in a process of its own (as python-kasa does), so neither client shares a thread with it.
 * Round trips are counted by the device. Targets: warm ≤ 2, cold ≤ 4 round trips; ours ≤ 0.5 × peer.
 */
import { execFile, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { plugAction } from '../core/tplink/operations';
import { DetectionCache } from '../core/tplink/connect';
import { SessionCache } from '../core/tplink/session-transport';
import type { DeviceServerStats } from '../sandbox/plugs/http-device-server';

const N = Number(process.env.BENCH_N ?? 200);
const WARMUP = 20;
const PYTHON = fileURLToPath(new URL('../.venv/bin/python', import.meta.url));
const PEER = fileURLToPath(new URL('./kasa_toggle.py', import.meta.url));
const credentials = { username: 'bench@example.com', password: 'bench-password' };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

function kasa(port: number, mode: 'warm' | 'cold'): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [PEER], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as number[]),
    );
    child.stdin!.end(JSON.stringify({ host: '127.0.0.1', port, ...credentials, n: N, warmup: WARMUP, mode }));
  });
}

async function ours(port: number, mode: 'warm' | 'cold' | 'detect'): Promise<number[]> {
  const warmSessions = new SessionCache();
  const times: number[] = [];
  for (let i = 0; i < WARMUP + N; i++) {
    const options =
      mode === 'detect'
        ? { credentials, sessions: new SessionCache(), detection: new DetectionCache() }
        : { credentials, protocol: 'klap' as const, family: 'smart' as const, sessions: mode === 'warm' ? warmSessions : new SessionCache() };
    const t0 = performance.now();
    await plugAction({ host: '127.0.0.1', port }, 'toggle', options);
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  return times;
}

/** The P110 runs in its own process, as a real plug would not share the client's thread. */
function startDeviceProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(fileURLToPath(new URL('./simulated-device-process.ts', import.meta.url)), ['p110-klap', credentials.username, credentials.password], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve) => child.once('message', (m) => resolve({ child, port: (m as { port: number }).port })));
}

function deviceStats(child: ChildProcess): Promise<DeviceServerStats> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve((m as { stats: DeviceServerStats }).stats));
    child.send('stats');
  });
}

const { child, port } = await startDeviceProcess();
const device = { port };
const perToggle = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
  const before = (await deviceStats(child)).http;
  const result = await fn();
  return [result, ((await deviceStats(child)).http - before) / (WARMUP + N)];
};

console.log(`toggle of a simulated P110 (SMART over KLAP v2) on 127.0.0.1, N=${N} each after ${WARMUP} warm-up`);
let failed = false;
for (const mode of ['warm', 'cold'] as const) {
  const [theirs, theirTrips] = await perToggle(() => kasa(device.port, mode));
  const [mine, myTrips] = await perToggle(() => ours(device.port, mode));
  const ratio = median(mine) / median(theirs);
  const tripTarget = mode === 'warm' ? 2 : 4;
  console.log(`${mode}:`);
  console.log(`  shadowplug plugAction       median ${fmt(median(mine))}  round trips/toggle ${myTrips.toFixed(2)} (target ≤ ${tripTarget})`);
  console.log(`  python-kasa SmartProtocol   median ${fmt(median(theirs))}  round trips/toggle ${theirTrips.toFixed(2)}`);
  console.log(`  ratio ours/peer (median)    ${ratio.toFixed(3)}  target ≤ 0.5: ${ratio <= 0.5 ? 'met' : 'NOT met'}`);
  if (myTrips > tripTarget) failed = true;
}
const [detected, detectTrips] = await perToggle(() => ours(device.port, 'detect'));
console.log(`cold with detection (no --protocol; XOR refused, then KLAP): median ${fmt(median(detected))}, round trips/toggle ${detectTrips.toFixed(2)}`);
child.send('close');
await new Promise((resolve) => child.once('exit', resolve));
if (failed) process.exit(1);
