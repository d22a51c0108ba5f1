/**
 * `npm run bench -- object-hash`: hashing a 1 GiB object served by the local S3 server.
 *  (a) the Lambda's `hashObject` with its defaults (one stream, switching to parallel ranged GETs
 *      when that stream is slow) vs `sha256sum`;
 *  (b) the same vs a plain single-stream GetObject that hashes nothing (target: hashing adds ≤ 10 %);
 *  (c) every connection throttled to 50 MB/s: one stream vs the same `hashObject` (target ≥ 3×).
 * Ranged-from-the-start reads (the reader before it was adaptive) run too, for comparison. Peak RSS
 * of this client process per phase, and of fresh processes that only hash (target ≤ 256 MB). The
 * S3 server and the proxy run in a child process (`serve`), so the client's numbers are its own.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalS3, localS3ClientConfig, LOCAL_S3_ACCESS_KEY_ID, LOCAL_S3_SECRET_ACCESS_KEY } from '../sandbox/local-s3';
import { hashObject } from '../core/s3/object-hash';
import { OBJECT_SETTINGS } from '../core/s3/config';
import { closeWhenParentGoes, procCpuSeconds, writeRandomFile } from './stats';
import { startThrottleProxy } from './throttle-proxy';

const SIZE = 1024 * 1024 * 1024;
const BUCKET = 'bench';
const KEY = 'bench/one-gib.bin';
const THROTTLE = 50_000_000; // bytes/s per connection
const MiB = 1024 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function serve(dir: string): Promise<void> {
  const s3 = await startLocalS3({ dir, buckets: [BUCKET] });
  const proxy = await startThrottleProxy({ targetHost: s3.host, targetPort: s3.port, bytesPerSecond: THROTTLE });
  console.log(JSON.stringify({ endpoint: s3.endpoint, throttled: `http://127.0.0.1:${proxy.port}` }));
  closeWhenParentGoes(async () => {
    await proxy.close();
    await s3.close();
  });
}

/** A fresh process that only hashes the object: its peak RSS is what a Lambda would see (plus tsx). */
async function hashInFreshProcess(endpoint: string): Promise<void> {
  const client = new S3Client(localS3ClientConfig(endpoint, { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY }));
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  const { hash } = await hashObject(client, { bucket: BUCKET, key: KEY, size: SIZE }, {
    partSizeBytes: OBJECT_SETTINGS.partSizeBytes.default,
    concurrency: OBJECT_SETTINGS.readConcurrency.default,
    parallelBelowMiBPerS: OBJECT_SETTINGS.parallelBelowMiBPerS.default,
  });
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  client.destroy();
  console.log(JSON.stringify({ hash, beforeMiB: before / MiB, peakMiB: peak / MiB }));
}

type Eight<T> = [T, T, T, T, T, T, T, T];

interface Measured {
  seconds: number;
  /** CPU seconds of this (client) process and of the server process: robust to other load. */
  clientCpu: number;
  serverCpu: number;
  peakRssMiB: number;
  result?: string;
}

async function measure(fn: () => Promise<string | undefined>, serverPid: number | undefined): Promise<Measured> {
  (globalThis as { gc?: () => void }).gc?.();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  const cpu0 = process.cpuUsage(); // (sha256sum runs in its own process: its CPU is not counted here)
  const server0 = procCpuSeconds(`/proc/${serverPid}/stat`);
  const start = performance.now();
  try {
    const result = await fn();
    const cpu = process.cpuUsage(cpu0);
    return {
      seconds: (performance.now() - start) / 1000,
      clientCpu: (cpu.user + cpu.system) / 1e6,
      serverCpu: procCpuSeconds(`/proc/${serverPid}/stat`) - server0,
      peakRssMiB: Math.max(peak, process.memoryUsage.rss()) / MiB,
      result,
    };
  } finally {
    clearInterval(sampler);
  }
}

async function singleStream(client: S3Client, hash: boolean): Promise<string | undefined> {
  const res = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
  const h = hash ? createHash('sha256') : undefined;
  let n = 0;
  for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
    n += chunk.byteLength;
    h?.update(chunk);
  }
  if (n !== SIZE) throw new Error(`read ${n} bytes, expected ${SIZE}`);
  return h?.digest('hex');
}

interface Rss {
  beforeMiB: number;
  peakMiB: number;
}

/** The ratios against their targets, from each phase's best run (in main's order of phases). */
function printRatios(best: Eight<Measured>, freshRss: Rss, freshRanged: Rss, peak: number): void {
  const [sum, plain, plainHashed, ours, slowOne, slowPar, rangedFast, rangedSlow] = best;
  const ratio = (a: Measured, b: Measured) => a.seconds / b.seconds;
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log('ratios (time / time):');
  console.log(`  (a) hashObject (adaptive) / sha256sum:            ${ratio(ours, sum).toFixed(2)}`);
  console.log(`  (b) hashObject (adaptive) / plain GetObject:      ${ratio(ours, plain).toFixed(2)}  target ≤ 1.10: ${mark(ratio(ours, plain) <= 1.1)}`);
  console.log(`      one-stream sha256 / one-stream plain:         ${ratio(plainHashed, plain).toFixed(2)}  (cost of hashing on one stream)`);
  console.log(`      hashObject (adaptive) / one-stream sha256:    ${ratio(ours, plainHashed).toFixed(2)}`);
  console.log(`      client CPU, hashObject / plain GetObject:     ${(ours.clientCpu / plain.clientCpu).toFixed(2)}  (independent of other load)`);
  console.log(`      before: ranged from byte 0 / plain GetObject: ${ratio(rangedFast, plain).toFixed(2)}`);
  console.log(`  (c) throttled: one stream / adaptive:             ${ratio(slowOne, slowPar).toFixed(2)}×  target ≥ 3×: ${mark(ratio(slowOne, slowPar) >= 3)}`);
  console.log(`      before: one stream / ranged from byte 0:      ${ratio(slowOne, rangedSlow).toFixed(2)}×`);
  console.log(`  peak RSS, fresh process hashing 1 GiB (defaults, fast: one stream): ${freshRss.peakMiB.toFixed(0)} MiB (${freshRss.beforeMiB.toFixed(0)} MiB before; tsx included)  target ≤ 256 MiB: ${mark(freshRss.peakMiB <= 256)}`);
  console.log(`  peak RSS, fresh process hashing 1 GiB (defaults, throttled: switches): ${freshRanged.peakMiB.toFixed(0)} MiB (${freshRanged.beforeMiB.toFixed(0)} MiB before)  target ≤ 256 MiB: ${mark(freshRanged.peakMiB <= 256)}`);
  console.log(`  peak RSS of this long-lived bench process:        ${peak.toFixed(0)} MiB (includes writing and uploading the file)`);
}

/** Hashes the object in a fresh process (`rss`) with the default threshold; its hash must be one of `hashes`. */
async function hashFresh(via: string, hashes: Set<string | undefined>): Promise<Rss> {
  const fresh = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'rss', via], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rss = JSON.parse(await firstLine(fresh, 'rss process')) as Rss & { hash: string };
  if (!hashes.has(rss.hash)) throw new Error(`fresh process hash differs: ${rss.hash}`);
  return rss;
}

/** The first line a child process prints (its ready message); rejects if it exits first. */
function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})`)));
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'object-hash-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', join(dir, 's3')], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const { endpoint, throttled } = JSON.parse(await firstLine(child, 'server')) as { endpoint: string; throttled: string };
    const credentials = { accessKeyId: LOCAL_S3_ACCESS_KEY_ID, secretAccessKey: LOCAL_S3_SECRET_ACCESS_KEY };
    const client = new S3Client(localS3ClientConfig(endpoint, credentials));
    const slow = new S3Client(localS3ClientConfig(throttled, credentials));

    const file = join(dir, 'one-gib.bin');
    console.log(`writing and uploading a 1 GiB object (temp dir ${dir}) ...`);
    await writeRandomFile(file, SIZE);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: createReadStream(file), ContentLength: SIZE }));
    const target = { bucket: BUCKET, key: KEY, size: SIZE };
    const adaptive = { partSizeBytes: OBJECT_SETTINGS.partSizeBytes.default, concurrency: OBJECT_SETTINGS.readConcurrency.default, parallelBelowMiBPerS: OBJECT_SETTINGS.parallelBelowMiBPerS.default };
    const ranged = { ...adaptive, parallelBelowMiBPerS: Infinity };
    const oneStream = { partSizeBytes: SIZE, concurrency: 1 };
    const modes = new Map<string, Set<string>>();
    const hashWith = async (name: string, c: S3Client, options: typeof adaptive | typeof oneStream) => {
      const result = await hashObject(c, target, options);
      const mode = result.read ? `${result.read.mode}${result.read.switchedAt !== undefined ? ` at ${(result.read.switchedAt / MiB).toFixed(2)} MiB` : ''}${result.read.mibPerS !== undefined ? `, first stream ${result.read.mibPerS.toFixed(0)} MiB/s` : ''}` : result.source;
      modes.set(name, (modes.get(name) ?? new Set()).add(mode));
      return result.hash;
    };
    const adaptiveName = `hashObject (adaptive, ${adaptive.parallelBelowMiBPerS} MiB/s, ${adaptive.concurrency} × ${adaptive.partSizeBytes / MiB} MiB)`;

    await promisify(execFile)('sha256sum', [file]); // warm the page cache for both sides
    await singleStream(client, false);

    // The machine is shared: each phase runs ROUNDS times, interleaved, and the best run counts
    // (the one least disturbed by other work). The throttled single stream is rate-bound: once.
    const phases: { name: string; rounds: number; fn: () => Promise<string | undefined> }[] = [
      { name: 'sha256sum (file on disk)', rounds: ROUNDS, fn: async () => (await promisify(execFile)('sha256sum', [file])).stdout.split(' ')[0] },
      { name: 'plain GetObject, one stream, no hash', rounds: ROUNDS, fn: () => singleStream(client, false) },
      { name: 'GetObject, one stream, sha256', rounds: ROUNDS, fn: () => singleStream(client, true) },
      { name: adaptiveName, rounds: ROUNDS, fn: () => hashWith(adaptiveName, client, adaptive) },
      { name: 'throttled 50 MB/s: hashObject, one stream', rounds: 1, fn: () => hashWith('throttled one', slow, oneStream) },
      { name: 'throttled 50 MB/s: hashObject, adaptive', rounds: ROUNDS, fn: () => hashWith('throttled 50 MB/s: hashObject, adaptive', slow, adaptive) },
      { name: `(before) hashObject, ${ranged.concurrency} ranges from byte 0`, rounds: ROUNDS, fn: () => hashWith('ranged', client, ranged) },
      { name: `(before) throttled: ${ranged.concurrency} ranges from byte 0`, rounds: ROUNDS, fn: () => hashWith('throttled ranged', slow, ranged) },
    ];
    const runs = new Map<string, Measured[]>(phases.map((p) => [p.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of phases) {
        if (round >= phase.rounds) continue;
        const m = await measure(phase.fn, child.pid);
        runs.get(phase.name)!.push(m);
        console.log(
          `  [${round + 1}] ${phase.name.padEnd(46)} ${m.seconds.toFixed(2).padStart(6)} s ${(SIZE / MiB / m.seconds).toFixed(0).padStart(5)} MiB/s  cpu client ${m.clientCpu.toFixed(2)} s server ${m.serverCpu.toFixed(2)} s  peak RSS ${m.peakRssMiB.toFixed(0)} MiB`,
        );
      }
    }
    const best = (i: number): Measured => {
      const list = runs.get(phases[i]!.name)!;
      return list.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    };

    const hashes = new Set([...runs.values()].flat().map((m) => m.result).filter((r) => r !== undefined));
    if (hashes.size !== 1) throw new Error(`hashes differ: ${[...hashes].join(' ')}`);

    const freshRss = await hashFresh(endpoint, hashes); // fast: stays one stream
    const freshRanged = await hashFresh(throttled, hashes); // slow: switches to ranges

    const peak = Math.max(...[...runs.entries()].filter(([n]) => !n.startsWith('sha256sum')).flatMap(([, ms]) => ms.map((m) => m.peakRssMiB)));
    console.log('\nhow the reader read (per phase):');
    for (const [name, set] of modes) console.log(`  ${name}: ${[...set].join('; ')}`);
    console.log(`\nbest of ${ROUNDS} (machine shared with other work, 2 cores, server + proxy in a child process); load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const [i, p] of phases.entries()) console.log(`  ${p.name.padEnd(46)} ${best(i).seconds.toFixed(2).padStart(7)} s  (client cpu ${best(i).clientCpu.toFixed(2)} s)`);
    printRatios(phases.map((_, i) => best(i)) as Eight<Measured>, freshRss, freshRanged, peak);
    client.destroy();
    slow.destroy();
  } finally {
    child.stdin?.end();
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!);
else if (process.argv[2] === 'rss') await hashInFreshProcess(process.argv[3]!);
else await main();
