/**
 * `npm run bench -- button-bundle`: the button Lambda's deployed bundle against the obvious
 * handler on tplink-smarthome-api, built the same way in the same run (esbuild as the stack's
 * NodejsFunction: node22, ESM, minified, @aws-sdk/* external).
 *
 *  - minified bundle size (and gzip), target ours ≤ 0.5 × peer: ours is index.mjs, what every cold
 *    start loads; the KLAP/AES/SMART code and the Secrets Manager source (button-protocols.mjs,
 *    loaded only when a plug is not XOR) are reported beside it, and with it;
 *  - module init time: median over RUNS fresh `node` processes importing the bundle with Lambda's
 *    environment (AWS_LAMBDA_FUNCTION_NAME, configuration, a topic ARN), target ours ≤ peer;
 *  - init + first click against a simulated HS100 on 127.0.0.1 (no topic: nothing leaves the machine).
 *
 * Variants run interleaved so drift on the shared machine hits all alike. Prints numbers and
 * ratios; it asserts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buttonFunctionEnvironment } from '../core/button/config';
import { startSimulatedPlug } from '../sandbox/simulated-plug';
import { bundleHandler, lazyFiles } from '../test/helpers/button-bundle';

const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:shadowplug-bench';
// Inside the project so the external @aws-sdk/* resolves from node_modules, as the runtime provides it.
const OUT = join(process.cwd(), '.bench-tmp', 'button-bundle');

interface Variant {
  name: string;
  entry: string;
  bundle?: string;
  env: (plug: { host: string; port: number }, withTopic: boolean) => Record<string, string>;
  init: number[];
  firstClick: number[];
}

const variants: Variant[] = [
  {
    name: 'shadowplug',
    entry: 'lambda/button-click.ts',
    env: (p, withTopic) =>
      buttonFunctionEnvironment({ defaultTargets: `${p.host}:${p.port}`, plugMode: 'direct', ...(withTopic ? { snsTopicArn: TOPIC } : {}) }),
    init: [],
    firstClick: [],
  },
  {
    name: 'peer (tplink-smarthome-api + SNS at load)',
    entry: 'bench/fixtures/button-peer-handler.ts',
    env: (p, withTopic) => ({ PLUG_HOST: p.host, PLUG_PORT: String(p.port), ...(withTopic ? { TOPIC_ARN: TOPIC } : {}) }),
    init: [],
    firstClick: [],
  },
  {
    name: 'peer without SNS',
    entry: 'bench/fixtures/button-peer-handler-no-sns.ts',
    env: (p) => ({ PLUG_HOST: p.host, PLUG_PORT: String(p.port) }),
    init: [],
    firstClick: [],
  },
];

function runNode(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: 'bench', AWS_REGION: 'us-east-1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KiB`;

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  for (const [i, v] of variants.entries()) v.bundle = await bundleHandler(v.entry, join(OUT, String(i)));
  const plug = await startSimulatedPlug();
  try {
    const event = JSON.stringify({ serialNumber: 'G030BENCH0000001', clickType: 'SINGLE', batteryVoltage: '1705mV' });
    for (let run = 0; run < RUNS; run++) {
      for (const v of variants) {
        const initScript = `const t = performance.now(); await import(${JSON.stringify(v.bundle)}); process.stdout.write(String(performance.now() - t));`;
        v.init.push(Number(await runNode(initScript, v.env(plug, true))));
        const clickScript = `const t = performance.now(); const { handler } = await import(${JSON.stringify(v.bundle)});
          await handler(${event}); process.stdout.write(String(performance.now() - t));`;
        // The last line: in Lambda's environment our handler writes its embedded-metric line to stdout first.
        v.firstClick.push(Number((await runNode(clickScript, { ...v.env(plug, false), SHADOWPLUG_LOG_LEVEL: 'silent' })).trim().split('\n').pop()));
      }
    }
  } finally {
    await plug.close();
  }

  const [ours, peer, peerNoSns] = variants as [Variant, Variant, Variant];
  const size = (v: Variant) => readFileSync(v.bundle!).length;
  const gz = (v: Variant) => gzipSync(readFileSync(v.bundle!)).length;
  console.log(`button bundle: ${RUNS} fresh node processes per variant and measure, interleaved (node ${process.version})`);
  console.log('');
  console.log('variant'.padEnd(44) + 'minified'.padStart(12) + 'gzip'.padStart(12) + 'init (median)'.padStart(16) + 'init+1st click'.padStart(16));
  for (const v of variants) {
    console.log(
      v.name.padEnd(44) +
        kb(size(v)).padStart(12) +
        kb(gz(v)).padStart(12) +
        `${median(v.init).toFixed(1)} ms`.padStart(16) +
        `${median(v.firstClick).toFixed(1)} ms`.padStart(16),
    );
  }
  const lazy = lazyFiles(ours.entry, join(OUT, '0')).map((file) => readFileSync(file));
  const lazyBytes = lazy.reduce((n, b) => n + b.length, 0);
  const lazyGzip = lazy.reduce((n, b) => n + gzipSync(b).length, 0);
  console.log(
    '  + loaded on demand (KLAP/AES/SMART, secret)'.padEnd(44) + kb(lazyBytes).padStart(12) + kb(lazyGzip).padStart(12) + '(not at init)'.padStart(16),
  );
  console.log('  = shadowplug with it'.padEnd(44) + kb(size(ours) + lazyBytes).padStart(12) + kb(gz(ours) + lazyGzip).padStart(12));
  const sizeRatio = size(ours) / size(peer);
  const initRatio = median(ours.init) / median(peer.init);
  console.log('');
  console.log(`size ratio ours/peer:              ${sizeRatio.toFixed(3)}  (target ≤ 0.5: ${sizeRatio <= 0.5 ? 'met' : 'NOT met'})`);
  console.log(`size ratio with the lazy part:      ${((size(ours) + lazyBytes) / size(peer)).toFixed(3)}  (a click on a KLAP/AES plug loads both)`);
  console.log(`init ratio ours/peer:              ${initRatio.toFixed(3)}  (target ≤ 1: ${initRatio <= 1 ? 'met' : 'NOT met'})`);
  console.log(`size ratio ours/peer without SNS:  ${(size(ours) / size(peerNoSns)).toFixed(3)}`);
  console.log(`init ratio ours/peer without SNS:  ${(median(ours.init) / median(peerNoSns.init)).toFixed(3)}`);
  console.log(`init+first click ratio ours/peer:  ${(median(ours.firstClick) / median(peer.firstClick)).toFixed(3)}`);
  rmSync(OUT, { recursive: true, force: true });
}

await main();
