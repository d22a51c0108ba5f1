/**
 * `npm run bench -- agent-download`: the device agent's download of a 1 GiB object from the local
 * S3 server (SHA-256 while writing, fsync, verify, rename) against a plain GetObject piped to a
 * file, interleaved, best of BENCH_ROUNDS (3). Targets: agent time ≤ 1.15 × plain; peak RSS ≤ 128 MB.
 *
 * The S3 server runs in its own process (`serve`), and every download in a fresh one (`client`:
 * this file bundled into plain JavaScript, as a device runs it), so each peak RSS is its own. A
 * second table repeats it through a 1 Gbit/s link (BENCH_LINK bytes/s; 0 skips it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type * as LocalS3Module from '../sandbox/local-s3';
import { downloadObject } from '../agent/download';
import { s3ClientConfig, s3ObjectSource } from '../agent/s3-source';
import { startThrottleProxy } from './throttle-proxy';
import { closeWhenParentGoes, peakRssBytes, writeRandomFile } from './stats';

const SIZE = Number(process.env.BENCH_SIZE ?? 1024 * 1024 * 1024);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** A device's link to S3 for the second table (default 1 Gbit/s); 0 skips it. */
const LINK = Number(process.env.BENCH_LINK ?? 125_000_000);
const BUCKET = 'bench';
const KEY = 'agent/one-gib.bin';
const MiB = 1024 * 1024;
// Not a literal, so esbuild leaves the S3 server out of the client bundle.
const LOCAL_S3_MODULE = '../sandbox/local-s3';

type Variant = 'plain' | 'agent';
interface Sample {
  ms: number;
  cpuMs: number;
  baselineRss: number;
  maxRss: number;
}

/** A local S3 server holding a SIZE-byte object; prints its endpoint and the object's hash. */
async function serve(dir: string): Promise<void> {
  const { startLocalS3 } = (await import(LOCAL_S3_MODULE)) as typeof LocalS3Module;
  const s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: [BUCKET] });
  const srcPath = join(dir, 'source.bin');
  const hash = await writeRandomFile(srcPath, SIZE);
  const client = s3.createClient();
  await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: createReadStream(srcPath), ContentLength: SIZE }));
  client.destroy();
  rmSync(srcPath);
  const link = LINK > 0 ? await startThrottleProxy({ targetHost: s3.host, targetPort: s3.port, bytesPerSecond: LINK }) : undefined;
  console.log(JSON.stringify({ endpoint: s3.endpoint, linkEndpoint: link ? `http://127.0.0.1:${link.port}` : undefined, hash }));
  closeWhenParentGoes(async () => {
    await link?.close();
    await s3.close();
  });
}

/** One download in a fresh process; prints a Sample as JSON. */
async function client(variant: Variant, endpoint: string, hash: string, dest: string): Promise<void> {
  const s3 = new S3Client(s3ClientConfig({ endpoint, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }));
  const baselineRss = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let path: string;
  let size: number;
  if (variant === 'plain') {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    path = join(dest, 'plain.bin');
    await pipeline(out.Body as Readable, createWriteStream(path));
    size = out.ContentLength ?? 0;
  } else {
    path = join(dest, 'one-gib.bin');
    ({ size } = await downloadObject(s3ObjectSource(s3), { bucket: BUCKET, key: KEY, hash, size: SIZE, maxSize: SIZE, finalPath: path }));
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Removing the file is not part of anybody's download (unlinking 1 GiB already on disk takes a while).
  rmSync(path);
  s3.destroy();
  if (size !== SIZE) throw new Error(`${variant} moved ${size} bytes, expected ${SIZE}`);
  const sample: Sample = { ms, cpuMs: (cpu.user + cpu.system) / 1000, baselineRss, maxRss: peakRssBytes() };
  console.log(JSON.stringify(sample));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'agent-download-bench-'));
  const dest = join(dir, 'dest');
  mkdirSync(dest);
  const self = fileURLToPath(import.meta.url);
  const server = spawn(process.execPath, ['--import', 'tsx', self, 'serve', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
  // The client as plain JavaScript (packages stay in node_modules, so it lives inside the project).
  const bundle = join(process.cwd(), '.bench-tmp', `agent-download-client-${process.pid}.mjs`);
  try {
    const { build } = await import('esbuild');
    await build({ entryPoints: [self], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile: bundle, logLevel: 'error' });

    console.log(`the server uploads ${SIZE / MiB} MiB ...`);
    const [line] = (await once(createInterface({ input: server.stdout! }), 'line')) as [string];
    const { endpoint, linkEndpoint, hash } = JSON.parse(line) as { endpoint: string; linkEndpoint?: string; hash: string };
    const run = (variant: Variant, at: string): Sample => {
      const r = spawnSync(process.execPath, [bundle, 'client', variant, at, hash, dest], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status !== 0 || !last.startsWith('{')) throw new Error(`client ${variant} failed (${r.status}): ${r.stderr}`);
      return JSON.parse(last) as Sample;
    };

    console.log('warming the server page cache ...');
    run('plain', endpoint);
    const table = (title: string, at: string) => {
      console.log(`\n${title}`);
      const rows: Record<Variant, Sample[]> = { plain: [], agent: [] };
      const variants: Variant[] = ['plain', 'agent'];
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order so drift on the shared machine hits all alike.
        for (const variant of [...variants.slice(round % 2), ...variants.slice(0, round % 2)]) {
          const m = run(variant, at);
          rows[variant].push(m);
          console.log(
            `  round ${round + 1} ${variant.padEnd(6)} ${(m.ms / 1000).toFixed(2)} s  ${(SIZE / MiB / (m.ms / 1000)).toFixed(0)} MiB/s  cpu ${(m.cpuMs / 1000).toFixed(2)} s  peak RSS ${(m.maxRss / MiB).toFixed(0)} MB (at start ${(m.baselineRss / MiB).toFixed(0)} MB)`,
          );
        }
      }
      const best = (v: Variant) => Math.min(...rows[v].map((r) => r.ms));
      const bestCpu = (v: Variant) => Math.min(...rows[v].map((r) => r.cpuMs));
      const peak = (v: Variant) => Math.max(...rows[v].map((r) => r.maxRss));
      const mb = (b: number) => `${(b / MiB).toFixed(0)} MB`;
      const ratio = best('agent') / best('plain');
      console.log(`  ${SIZE / MiB} MiB, best of ${ROUNDS}, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs:`);
      console.log(`  plain GetObject → file (no hash, no fsync):          ${(best('plain') / 1000).toFixed(2)} s  cpu ${(bestCpu('plain') / 1000).toFixed(2)} s  peak RSS ${mb(peak('plain'))}`);
      console.log(`  agent (sha256 + fsync + verify + rename):            ${(best('agent') / 1000).toFixed(2)} s  cpu ${(bestCpu('agent') / 1000).toFixed(2)} s  peak RSS ${mb(peak('agent'))}`);
      console.log(`  time ratio agent/plain: ${ratio.toFixed(3)} (target ≤ 1.15) ${ratio <= 1.15 ? 'OK' : 'MISSED'}`);
      console.log(`  peak RSS agent: ${mb(peak('agent'))} (target ≤ 128 MB) ${peak('agent') <= 128 * MiB ? 'OK' : 'MISSED'}`);
    };
    table('loopback (the S3 server on the same CPUs):', endpoint);
    if (linkEndpoint) table(`through a ${((LINK * 8) / 1e9).toFixed(1)} Gbit/s link (bench/throttle-proxy.ts):`, linkEndpoint);
  } finally {
    server.stdin!.end();
    server.kill('SIGTERM');
    await once(server, 'exit').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    rmSync(bundle, { force: true });
  }
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'serve') await serve(args[0]!);
else if (mode === 'client') await client(args[0] as Variant, args[1]!, args[2]!, args[3]!);
else await main();
