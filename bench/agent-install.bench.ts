/**
 * `npm run bench -- agent-install`: the installed agent (dist/shadowplug-agent.mjs alone in an
 * empty directory, run with `node`) against running it from a clone through `npx`:
 *  - bundle size, target ≤ 1.5 MB;
 *  - start → "mqtt connected" (the sandbox's IoT Core stand-in), median of RUNS fresh processes per
 *    variant, interleaved; target bundle ≤ 0.35 × the old npx path (tsx compiling at every start);
 *  - peak RSS (VmHWM) of the agent one second after connecting, and of the whole process tree;
 *    target bundle ≤ 90 MB.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentArgs } from '../sandbox/banner';
import { startSandbox } from '../sandbox/sandbox';
import { isGone, processTree } from '../test/helpers/process-tree';
import { median, vmHwmBytes } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ROOT = process.cwd();
const MIB = 1024 * 1024;

interface Sample {
  connectedMs: number;
  agentRssMiB: number;
  treeRssMiB: number;
}

interface Variant {
  name: string;
  command: (args: string[]) => [string, string[]];
  cwd: string;
  samples: Sample[];
}

/** Starts one agent, waits for "mqtt connected", samples RSS, stops the whole tree. */
async function once(v: Variant, args: string[]): Promise<Sample> {
  const [file, argv] = v.command(args);
  const started = performance.now();
  const child = spawn(file, argv, { cwd: v.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const connectedMs = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${v.name}: not connected within 60 s:\n${text}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      text += c;
      if (text.includes('mqtt connected')) {
        clearTimeout(timer);
        resolve(performance.now() - started);
      }
    });
  });
  await new Promise((r) => setTimeout(r, 1000));
  const tree = processTree(child.pid!);
  const rss = tree.map((pid) => vmHwmBytes(pid) / MIB);
  // The agent is the last node process of the tree (npm exec → sh → node).
  const agentRssMiB = rss[rss.length - 1]!;
  for (const pid of [...tree].reverse()) if (!isGone(pid)) process.kill(pid, 'SIGTERM');
  await exited;
  const deadline = Date.now() + 15_000;
  while (!tree.every(isGone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return { connectedMs, agentRssMiB, treeRssMiB: rss.reduce((a, b) => a + b, 0) };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'bench-agent-install-'));
  const { buildAgent, buildCli } = (await import(join(ROOT, 'scripts/build.mjs'))) as {
    buildAgent: () => Promise<{ file: string; bytes: number }>;
    buildCli: () => Promise<string>;
  };
  const built = await buildAgent();
  await buildCli();
  const installDir = join(work, 'opt');
  mkdirSync(installDir);
  copyFileSync(built.file, join(installDir, 'shadowplug-agent.mjs'));
  // The launcher before this change: tsx compiles the TypeScript in the process at every start.
  const oldLauncherDir = join(ROOT, '.bench-tmp');
  mkdirSync(oldLauncherDir, { recursive: true });
  const oldLauncher = join(oldLauncherDir, 'tsx-launcher.mjs');
  writeFileSync(oldLauncher, "import { register } from 'tsx/esm/api';\nregister();\nawait import('../bin/shadowplug.ts');\n");

  const sandbox = await startSandbox({ dir: join(work, 'sandbox'), agents: false });
  const variants: Variant[] = [
    { name: 'bundle (node shadowplug-agent.mjs)', command: (a) => [process.execPath, [join(installDir, 'shadowplug-agent.mjs'), ...a]], cwd: installDir, samples: [] },
    { name: 'npx shadowplug agent (built CLI, now)', command: (a) => ['npx', ['shadowplug', 'agent', ...a]], cwd: ROOT, samples: [] },
    { name: 'npx + tsx (the npx path before)', command: (a) => ['npm', ['exec', '--', 'node', oldLauncher, 'agent', ...a]], cwd: ROOT, samples: [] },
  ];
  try {
    const args = agentArgs(sandbox.info, ROOT, sandbox.info.things[0]!).slice(1);
    await once(variants[1]!, args); // warm npm's cache and the page cache; not counted
    for (let i = 0; i < RUNS; i++) for (const v of variants) v.samples.push(await once(v, args));
  } finally {
    await sandbox.close();
    rmSync(work, { recursive: true, force: true });
    rmSync(oldLauncher, { force: true });
  }

  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  console.log(`  bundle: ${(built.bytes / MIB).toFixed(2)} MiB (${built.bytes} bytes)  target ≤ 1.5 MB: ${mark(built.bytes <= 1.5e6)}`);
  console.log(`  median of ${RUNS} fresh processes each, start → mqtt connected; peak RSS (VmHWM) of the agent process / of the process tree:`);
  for (const v of variants) {
    const c = median(v.samples.map((s) => s.connectedMs));
    console.log(
      `    ${v.name.padEnd(40)} ${c.toFixed(0).padStart(5)} ms  (${v.samples.map((s) => s.connectedMs.toFixed(0)).join(', ')})   RSS ${median(v.samples.map((s) => s.agentRssMiB)).toFixed(0)} MiB / tree ${median(v.samples.map((s) => s.treeRssMiB)).toFixed(0)} MiB`,
    );
  }
  const [bundle, npxNow, npxBefore] = variants.map((v) => median(v.samples.map((s) => s.connectedMs))) as [number, number, number];
  const rss = median(variants[0]!.samples.map((s) => s.agentRssMiB));
  console.log(`  connected: bundle / npx before = ${(bundle / npxBefore).toFixed(2)} ×  target ≤ 0.35 ×: ${mark(bundle / npxBefore <= 0.35)}`);
  console.log(`  connected: bundle / npx now    = ${(bundle / npxNow).toFixed(2)} ×`);
  console.log(`  bundle peak RSS ${rss.toFixed(0)} MiB (${(rss * MIB / 1e6).toFixed(0)} MB)  target ≤ 90 MB: ${mark(rss * MIB <= 90e6)}`);
}

await main();
