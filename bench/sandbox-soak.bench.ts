/**
 * `npm run bench -- sandbox-soak [--streams=100] [--uploads=1000] [--warmup=50]`: the sandbox
 * process under `streams` dashboard event streams (all reopened every tenth of the run, as pages
 * reloading) and `uploads` uploads through the dashboard, each installed by its agent. Its RSS,
 * heap, descriptors, listeners and handles after a warm-up and at the end (after a full GC, no
 * stream open); targets: RSS growth ≤ 5 MB, no growth in the others.
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mapLimit } from '../core/util/map-limit';
import type { SandboxInfo } from '../sandbox/sandbox-info';
import type { SoakStats } from './sandbox-soak-process';
import { ask } from './stats';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { streams: { type: 'string', default: '100' }, uploads: { type: 'string', default: '1000' }, warmup: { type: 'string', default: '50' } },
});
const STREAMS = Number(values.streams);
const UPLOADS = Number(values.uploads);
const WARMUP = Number(values.warmup);
const CONCURRENCY = 4;
const RSS_TARGET_BYTES = 5 * 1024 * 1024;
/** A few names, reused: the device's directory does not grow with the run. */
const NAMES = 8;

const work = mkdtempSync(join(tmpdir(), 'sandbox-soak-'));
const child = fork(join(import.meta.dirname, 'sandbox-soak-process.ts'), [join(work, '.sandbox')], {
  execArgv: ['--import', 'tsx', '--expose-gc'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const { info } = await new Promise<{ info: SandboxInfo }>((resolve) => child.once('message', (m) => resolve(m as { info: SandboxInfo })));
const dashboard = new URL(info.dashboard!);
const thing = info.things[0]!.name;

async function stats(): Promise<SoakStats> {
  return (await ask<{ stats: SoakStats }>(child, 'stats')).stats;
}

/** `n` event streams, read and discarded as a page would. */
function openStreams(n: number): Promise<ClientRequest[]> {
  return Promise.all(
    Array.from({ length: n }, () =>
      new Promise<ClientRequest>((resolve, reject) => {
        const req = get(new URL('/api/events', dashboard), (res) => {
          res.resume();
          resolve(req);
        });
        req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      }),
    ),
  );
}

async function upload(i: number): Promise<string> {
  const body = randomBytes(1024);
  const res = await fetch(new URL(`/api/upload?name=soak-${i % NAMES}.bin`, dashboard), { method: 'POST', headers: { Origin: dashboard.origin }, body });
  if (res.status !== 200) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
  const { sha256 } = (await res.json()) as { sha256: string };
  if (sha256 !== createHash('sha256').update(body).digest('hex')) throw new Error(`upload ${i}: wrong hash`);
  return sha256;
}

/** Resolves once the device reports `hash` (everything before it has been answered). */
async function settled(hash: string): Promise<void> {
  for (;;) {
    const res = await fetch(new URL(`/api/shadow?thing=${thing}`, dashboard));
    const doc = (await res.json()) as { document?: { state?: { reported?: { s3?: { hash?: string } } } } };
    if (doc.document?.state?.reported?.s3?.hash === hash) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function run(count: number, streamCount: number, first: number, samples?: SoakStats[]): Promise<void> {
  let streams = await openStreams(streamCount);
  const reopenEvery = Math.max(1, Math.floor(count / 10));
  // One reopening at a time (workers reach the mark together), so no set of streams is lost.
  let reopening: Promise<void> = Promise.resolve();
  const reopen = () => {
    reopening = reopening.then(async () => {
      if (samples) samples.push(await stats());
      for (const s of streams) s.destroy();
      streams = await openStreams(streamCount);
    });
    return reopening;
  };
  await mapLimit(Array.from({ length: count }, (_, i) => i), CONCURRENCY, async (i) => {
    await upload(first + i);
    if ((i + 1) % reopenEvery === 0) await reopen();
  });
  await reopening;
  // Concurrent uploads of different keys end in no defined order: one more, alone, is the last.
  await settled(await upload(first + count));
  for (const s of streams) s.destroy();
}

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const handles = (s: SoakStats) => Object.values(s.resources).reduce((a, b) => a + b, 0);

/** Past the servers' keep-alive timeout (5 s) idle connections are closed: what is left then leaked. */
const quiet = () => new Promise((r) => setTimeout(r, 6_000));

try {
  await run(WARMUP, STREAMS, 0);
  await quiet();
  const start = await stats();
  const began = performance.now();
  const samples: SoakStats[] = [];
  await run(UPLOADS, STREAMS, WARMUP + 1, samples);
  const seconds = (performance.now() - began) / 1000;
  await quiet();
  const end = await stats();

  console.log(`sandbox process under ${STREAMS} event streams (reopened 10 times) and ${UPLOADS} uploads of 1 KiB through the dashboard, ${CONCURRENCY} at a time, each installed by the agent: ${seconds.toFixed(1)} s (${(UPLOADS / seconds).toFixed(0)} uploads/s)`);
  console.log('                 after warm-up   end');
  console.log(`RSS              ${mb(start.rssBytes).padEnd(15)} ${mb(end.rssBytes)}`);
  console.log(`RSS every tenth (streams open): ${samples.map((x) => (x.rssBytes / 1024 / 1024).toFixed(0)).join(' ')} MB; heap: ${samples.map((x) => (x.heapUsedBytes / 1024 / 1024).toFixed(1)).join(' ')} MB`);
  console.log(`heap used        ${mb(start.heapUsedBytes).padEnd(15)} ${mb(end.heapUsedBytes)}`);
  console.log(`external         ${mb(start.externalBytes).padEnd(15)} ${mb(end.externalBytes)}`);
  console.log(`open FDs         ${String(start.fds).padEnd(15)} ${end.fds}`);
  console.log(`listeners        ${String(start.listeners).padEnd(15)} ${end.listeners}`);
  console.log(`live handles     ${String(handles(start)).padEnd(15)} ${handles(end)}   ${JSON.stringify(end.resources)}`);
  const growth = end.rssBytes - start.rssBytes;
  const verdicts = [
    [`RSS growth ${mb(growth)} ≤ ${mb(RSS_TARGET_BYTES)}`, growth <= RSS_TARGET_BYTES],
    [`FDs ${start.fds} → ${end.fds}, no growth`, end.fds <= start.fds],
    [`listeners ${start.listeners} → ${end.listeners}, no growth`, end.listeners <= start.listeners],
    [`handles ${handles(start)} → ${handles(end)}, no growth`, handles(end) <= handles(start)],
  ] as const;
  for (const [text, ok] of verdicts) console.log(`${ok ? 'ok  ' : 'MISS'} ${text}`);
  process.exitCode = verdicts.every(([, ok]) => ok) ? 0 : 1;
} finally {
  child.send('close');
  await new Promise((r) => child.once('exit', r));
  rmSync(work, { recursive: true, force: true });
}
