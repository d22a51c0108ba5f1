/**
 * `npm run bench -- agent-download`: the device agent's download of a 1 GiB object from the local
 * S3 server (SHA-256 while writing, fsync, verify, rename) against a plain download of the same
 * object (GetObject piped to a file: no hash, no fsync), interleaved, best of BENCH_ROUNDS (3).
 * Targets: agent time ≤ 1.15 × plain; peak RSS of this process ≤ 128 MB.
 *
 * The S3 server runs in a child process (this file with `serve`) so this process's RSS and CPU
 * are the downloader's own. Everything binds 127.0.0.1; the big files are removed at the end.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { downloadObject } from '../agent/download';
import { s3ClientConfig, s3ObjectSource } from '../agent/s3-source';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUCKET = 'bench';
const KEY = 'agent/one-gib.bin';
const MiB = 1024 * 1024;

/** The child: a local S3 server holding a SIZE-byte object (uploaded here, so the parent's memory stays the downloader's). */
async function serve(dir: string): Promise<void> {
  // Imported here only: the parent's memory must be the downloader's, not the S3 server's modules.
  const { startLocalS3 } = await import('../sandbox/local-s3');
  const s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
  const srcPath = join(dir, 'source.bin');
  const hasher = createHash('sha256');
  const out = createWriteStream(srcPath);
  const block = randomBytes(MiB);
  for (let n = 0; n * MiB < SIZE; n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(MiB, SIZE - n * MiB)));
    chunk.writeUInt32BE(n, 0);
    hasher.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const client = s3.createClient();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: createReadStream(srcPath), ContentLength: SIZE }));
  client.destroy();
  rmSync(srcPath);
  console.log(JSON.stringify({ endpoint: s3.endpoint, hash: hasher.digest('hex') }));
  const stop = async () => {
    await s3.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
  process.on('SIGTERM', () => void stop());
}

/** Peak RSS while `fn` runs, sampled every 20 ms (the process-wide maxRSS cannot be reset). */
async function measure<T>(fn: () => Promise<T>): Promise<{ ms: number; cpuMs: number; peakRss: number; value: T }> {
  (globalThis as { gc?: () => void }).gc?.();
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    peak = Math.max(peak, process.memoryUsage.rss());
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, peakRss: peak, value };
  } finally {
    clearInterval(sampler);
  }
}

async function main(): Promise<void> {
  console.log(`RSS after loading the SDK and the agent modules: ${(process.memoryUsage.rss() / MiB).toFixed(0)} MB`);
  const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'agent-download-bench-'));
  const dest = join(dir, 'dest');
  mkdirSync(dest);
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    console.log(`the server child uploads ${SIZE / MiB} MiB ...`);
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { endpoint, hash } = JSON.parse(line) as { endpoint: string; hash: string };
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }; // what s3rver accepts
    const client = new S3Client(s3ClientConfig({ endpoint, credentials }));

    // Each returns the size and the file it wrote; files are removed outside the timed part
    // (unlinking a 1 GiB file already on disk costs a second here, and is nobody's download).
    const plain = async (): Promise<{ size: number; path: string }> => {
      const out = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
      const path = join(dest, 'plain.bin');
      await pipeline(out.Body as Readable, createWriteStream(path));
      return { size: out.ContentLength ?? 0, path };
    };
    const agentWith = (hashThread: 'auto' | 'inline') => async (): Promise<{ size: number; path: string }> => {
      const path = join(dest, 'one-gib.bin');
      const r = await downloadObject(s3ObjectSource(client), { bucket: BUCKET, key: KEY, hash, size: SIZE, maxSize: SIZE, finalPath: path, hashThread });
      return { size: r.size, path };
    };
    const agent = agentWith('auto');
    const inline = agentWith('inline');

    console.log('warming the server page cache ...');
    rmSync((await plain()).path);
    (globalThis as { gc?: () => void }).gc?.();
    console.log(`baseline RSS before downloads: ${(process.memoryUsage.rss() / MiB).toFixed(0)} MB`);
    type Name = 'plain' | 'agent' | 'inline';
    const rows: Record<Name, { ms: number; cpuMs: number; peakRss: number }[]> = { plain: [], agent: [], inline: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so drift on the shared machine hits both alike.
      const all = [['plain', plain], ['agent', agent], ['inline', inline]] as const;
      const order = round % 2 === 0 ? all : ([...all].reverse() as unknown as typeof all);
      for (const [name, fn] of order) {
        const m = await measure(fn);
        rmSync(m.value.path);
        if (m.value.size !== SIZE) throw new Error(`${name} moved ${m.value.size} bytes, expected ${SIZE}`);
        rows[name].push(m);
        console.log(`  round ${round + 1} ${name.padEnd(6)} ${(m.ms / 1000).toFixed(2)} s  ${(SIZE / MiB / (m.ms / 1000)).toFixed(0)} MiB/s  cpu ${(m.cpuMs / 1000).toFixed(2)} s  peak RSS ${(m.peakRss / MiB).toFixed(0)} MB`);
      }
    }
    const best = (name: Name) => Math.min(...rows[name].map((r) => r.ms));
    const peak = (name: Name) => Math.max(...rows[name].map((r) => r.peakRss));
    const ratio = best('agent') / best('plain');
    const bestCpu = (name: Name) => Math.min(...rows[name].map((r) => r.cpuMs));
    console.log(`\nagent-download, ${SIZE / MiB} MiB, best of ${ROUNDS} (load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}):`);
    console.log(`  plain GetObject → file (no hash, no fsync): ${(best('plain') / 1000).toFixed(2)} s, peak RSS ${(peak('plain') / MiB).toFixed(0)} MB`);
    console.log(`  agent download (sha256 + fsync + verify + rename): ${(best('agent') / 1000).toFixed(2)} s, peak RSS ${(peak('agent') / MiB).toFixed(0)} MB`);
    console.log(`  same, SHA-256 on the main thread (single-core devices): ${(best('inline') / 1000).toFixed(2)} s, peak RSS ${(peak('inline') / MiB).toFixed(0)} MB, ratio ${(best('inline') / best('plain')).toFixed(3)}`);
    console.log(`  time ratio agent/plain: ${ratio.toFixed(3)} (target ≤ 1.15) ${ratio <= 1.15 ? 'OK' : 'MISSED'}`);
    console.log(`  client CPU: plain ${(bestCpu('plain') / 1000).toFixed(2)} s, agent ${(bestCpu('agent') / 1000).toFixed(2)} s (ratio ${(bestCpu('agent') / bestCpu('plain')).toFixed(3)}), inline ${(bestCpu('inline') / 1000).toFixed(2)} s`);
    console.log(`  peak RSS: ${(peak('agent') / MiB).toFixed(0)} MB (target ≤ 128 MB) ${peak('agent') <= 128 * MiB ? 'OK' : 'MISSED'}; process maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    client.destroy();
  } finally {
    child.stdin!.end();
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve(process.argv[3]!);
else await main();
