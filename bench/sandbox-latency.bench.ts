/**
 * `npm run bench -- sandbox-latency`: the two flows end to end in the sandbox, each next to its
 * floor measured in the same run (the same bytes with nothing in between); medians, sandbox / floor:
 * - click → plug changed; floor: one toggle sent straight to the plug.
 * - upload → verified and installed, 1 MB and 100 MB; floor: PutObject + GetObject with a plain client.
 * - fleet: with 200 devices, PutObject (1 MB) until all 200 report the new hash.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { plugAction } from '../core/tplink/operations';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { startLocalS3 } from '../sandbox/local-s3';
import { nextEvent, timeClicks } from './sandbox-events';
import { median, ms } from './stats';

const CLICKS = Number(process.env.BENCH_CLICKS ?? 50);
const SMALL_RUNS = Number(process.env.BENCH_SMALL_RUNS ?? 10);
const LARGE_RUNS = Number(process.env.BENCH_LARGE_RUNS ?? 3);
const FLEET = Number(process.env.BENCH_FLEET ?? 200);
const FLEET_RUNS = Number(process.env.BENCH_FLEET_RUNS ?? 3);
const MB = 1024 * 1024;

const now = () => performance.now();

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);

async function clickToPlug(sandbox: Sandbox): Promise<{ sandbox: number[]; floor: number[] }> {
  const info = sandbox.info;
  const viaSandbox = await timeClicks(sandbox, CLICKS);
  const floor: number[] = [];
  for (let i = 0; i < CLICKS; i++) {
    const t0 = now();
    await plugAction({ host: info.plug.host, port: info.plug.port }, 'toggle');
    floor.push(now() - t0);
  }
  return { sandbox: viaSandbox, floor };
}

async function uploadToVerified(sandbox: Sandbox, size: number, runs: number): Promise<{ installed: number[]; reported: number[]; floor: number[] }> {
  const thing = sandbox.info.things[0]!.name;
  const body = randomBytes(size);
  const installed: number[] = [];
  const reported: number[] = [];
  for (let i = 0; i < runs; i++) {
    body.writeUInt32BE(i, 0); // a new hash every run
    const isInstalled = nextEvent(sandbox, (e) => e.type === 'installed' && e.thing === thing);
    const t0 = now();
    const { sha256 } = await sandbox.upload(`bench-${size}.bin`, body);
    await isInstalled;
    installed.push(now() - t0);
    await sandbox.waitForReported(thing, sha256, 600_000);
    reported.push(now() - t0);
  }
  // Floor: the same bytes through a plain S3 client against a fresh local S3, no Lambda, no agent.
  const dir = mkdtempSync(join(tmpdir(), 'bench-s3-'));
  const s3 = await startLocalS3({ dir });
  const client = s3.createClient();
  const floor: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      body.writeUInt32BE(i + 1000, 0);
      const t0 = now();
      await client.send(new PutObjectCommand({ Bucket: 'shadowplug', Key: 'floor.bin', Body: body, ContentLength: body.length }));
      const got = await client.send(new GetObjectCommand({ Bucket: 'shadowplug', Key: 'floor.bin' }));
      for await (const _chunk of got.Body as AsyncIterable<Uint8Array>) {
        // drain
      }
      floor.push(now() - t0);
    }
  } finally {
    client.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { installed, reported, floor };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-sandbox-'));
  try {
    let t0 = now();
    const sandbox = await startSandbox({ dir: join(work, 'one'), writeInfoFile: false });
    console.log(`start (1 device, certificates generated): ${ms(now() - t0)}`);
    try {
      const click = await clickToPlug(sandbox);
      const c = median(click.sandbox);
      const f = median(click.floor);
      console.log(`click → plug changed (n=${CLICKS}): median ${ms(c)}; direct toggle median ${ms(f)}; ratio ${(c / f).toFixed(2)}×`);
      for (const [label, size, runs] of [['1 MB', MB, SMALL_RUNS], ['100 MB', 100 * MB, LARGE_RUNS]] as const) {
        const r = await uploadToVerified(sandbox, size, runs);
        const i = median(r.installed);
        const rep = median(r.reported);
        const fl = median(r.floor);
        console.log(
          `upload → verified ${label} (n=${runs}): median ${ms(i)} (reported ${ms(rep)}); plain put+get median ${ms(fl)}; ratio ${(i / fl).toFixed(2)}×`,
        );
      }
    } finally {
      await sandbox.close();
    }
    t0 = now();
    const again = await startSandbox({ dir: join(work, 'one'), writeInfoFile: false });
    console.log(`restart (certificates cached): ${ms(now() - t0)}`);
    await again.close();

    t0 = now();
    const fleet = await startSandbox({ dir: join(work, 'fleet'), devices: FLEET, writeInfoFile: false });
    console.log(`start (${FLEET} devices): ${ms(now() - t0)}`);
    try {
      const times: number[] = [];
      const body = randomBytes(MB);
      for (let i = 0; i < FLEET_RUNS; i++) {
        body.writeUInt32BE(i, 0);
        const t = now();
        const { sha256 } = await fleet.upload('fleet.bin', body);
        await Promise.all(fleet.info.things.map((th) => fleet.waitForReported(th.name, sha256, 600_000)));
        times.push(now() - t);
      }
      console.log(`fleet: 1 MB upload → all ${FLEET} reported (n=${FLEET_RUNS}): median ${ms(median(times))} (${times.map(ms).join(', ')})`);
    } finally {
      await fleet.close();
    }
    console.log(`peak RSS: ${(peakRss / MB).toFixed(0)} MB`);
  } finally {
    clearInterval(rssTimer);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
