/**
 * `npm run bench -- button-bundle`: the button Lambda's bundle against the obvious handler on
 * tplink-smarthome-api, both built as the stack's NodejsFunction builds (node22, ESM, minified):
 *  - minified size (and gzip) of what a cold start loads before its first click is done, per plug
 *    mode; target ≤ 0.5 × peer for relay (the default) and direct XOR;
 *  - module init time: median over RUNS fresh `node` processes importing the bundle with Lambda's
 *    environment, target ours ≤ peer (the relay's data-plane endpoint is a closed local port);
 *  - init + first click against a simulated HS100 on 127.0.0.1, direct mode only (a relay click
 *    needs a hub to answer).
 * Variants run interleaved so drift on the shared machine hits all alike.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buttonFunctionEnvironment } from '../core/button/config';
import { startSimulatedPlug } from '../sandbox/simulated-plug';
import { bundleHandler, lazyFiles } from '../test/helpers/button-bundle';
import { median } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:shadowplug-bench';
// Inside the project so the external @aws-sdk/* resolves from node_modules, as the runtime provides it.
const OUT = join(process.cwd(), '.bench-tmp', 'button-bundle');

interface Variant {
  name: string;
  entry: string;
  bundle?: string;
  env: (plug: { host: string; port: number }, withTopic: boolean) => Record<string, string>;
  /** The bundle's files a cold start of this variant loads before its first click is done. */
  loads: string[];
  init: number[];
  firstClick?: number[];
}

const RELAY_ENDPOINT = 'http://127.0.0.1:9';

const variants: Variant[] = [
  {
    name: 'shadowplug relay (default)',
    entry: 'lambda/button-click.ts',
    env: (_p, withTopic) =>
      buttonFunctionEnvironment({
        defaultTargets: ['lamp'],
        plugMode: 'relay',
        plugs: 'lamp@hub-1=192.168.1.20',
        iotDataEndpoint: RELAY_ENDPOINT,
        ...(withTopic ? { snsTopicArn: TOPIC } : {}),
      }),
    loads: ['index.mjs', 'button-relay.mjs'],
    init: [],
  },
  {
    name: 'shadowplug direct (XOR plug)',
    entry: 'lambda/button-click.ts',
    env: (p, withTopic) =>
      buttonFunctionEnvironment({ defaultTargets: `${p.host}:${p.port}`, plugMode: 'direct', ...(withTopic ? { snsTopicArn: TOPIC } : {}) }),
    loads: ['index.mjs', 'button-direct.mjs'],
    init: [],
    firstClick: [],
  },
  {
    name: 'peer (tplink-smarthome-api + SNS at load)',
    entry: 'bench/fixtures/button-peer-handler.ts',
    env: (p, withTopic) => ({ PLUG_HOST: p.host, PLUG_PORT: String(p.port), ...(withTopic ? { TOPIC_ARN: TOPIC } : {}) }),
    loads: ['index.mjs'],
    init: [],
    firstClick: [],
  },
  {
    name: 'peer without SNS',
    entry: 'bench/fixtures/button-peer-handler-no-sns.ts',
    env: (p) => ({ PLUG_HOST: p.host, PLUG_PORT: String(p.port) }),
    loads: ['index.mjs'],
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
        if (!v.firstClick) continue;
        const clickScript = `const t = performance.now(); const { handler } = await import(${JSON.stringify(v.bundle)});
          await handler(${event}); process.stdout.write(String(performance.now() - t));`;
        // The last line: in Lambda's environment our handler writes its embedded-metric line to stdout first.
        v.firstClick.push(Number((await runNode(clickScript, { ...v.env(plug, false), SHADOWPLUG_LOG_LEVEL: 'silent' })).trim().split('\n').pop()));
      }
    }
  } finally {
    await plug.close();
  }

  const [relay, direct, peer, peerNoSns] = variants as [Variant, Variant, Variant, Variant];
  const dirOf = (v: Variant) => dirname(v.bundle!);
  const files = (v: Variant, names = v.loads) => names.map((n) => readFileSync(join(dirOf(v), n)));
  const bytes = (bs: Buffer[]) => bs.reduce((n, b) => n + b.length, 0);
  const gzip = (bs: Buffer[]) => bs.reduce((n, b) => n + gzipSync(b).length, 0);
  const ms = (xs: number[] | undefined) => (xs ? `${median(xs).toFixed(1)} ms` : '—');
  console.log(`button bundle: ${RUNS} fresh node processes per variant and measure, interleaved (node ${process.version})`);
  console.log('');
  console.log('variant: files loaded before the first click'.padEnd(64) + 'minified'.padStart(12) + 'gzip'.padStart(12) + 'init (median)'.padStart(16) + 'init+1st click'.padStart(16));
  const row = (label: string, bs: Buffer[], init = '', click = '') =>
    console.log(label.padEnd(64) + kb(bytes(bs)).padStart(12) + kb(gzip(bs)).padStart(12) + init.padStart(16) + click.padStart(16));
  for (const v of variants) row(`${v.name}: ${v.loads.join(' + ')}`, files(v), ms(v.init), ms(v.firstClick));
  const klapFiles = [...direct.loads, 'button-protocols.mjs'];
  row(`shadowplug direct (KLAP/AES plug): ${klapFiles.join(' + ')}`, files(direct, klapFiles), '(as XOR)', '');
  for (const name of ['index.mjs', ...lazyFiles(direct.entry, dirOf(direct)).map((f) => basename(f))]) row(`  ${name}`, files(direct, [name]));

  const peerBytes = bytes(files(peer));
  const ratio = (bs: Buffer[]) => bytes(bs) / peerBytes;
  const verdict = (r: number, target: number) => `target ≤ ${target}: ${r <= target ? 'met' : 'NOT met'}`;
  console.log('');
  const relayRatio = ratio(files(relay));
  const directRatio = ratio(files(direct));
  console.log(`size ratio relay/peer:                   ${relayRatio.toFixed(3)}  (${verdict(relayRatio, 0.5)})`);
  console.log(`size ratio direct XOR/peer:              ${directRatio.toFixed(3)}  (${verdict(directRatio, 0.5)})`);
  console.log(`size ratio direct KLAP/AES/peer:         ${ratio(files(direct, klapFiles)).toFixed(3)}  (no target: a click on such a plug loads the protocols part too)`);
  console.log(`size ratio index.mjs alone/peer:         ${ratio(files(direct, ['index.mjs'])).toFixed(3)}`);
  for (const v of [relay, direct]) {
    const r = median(v.init) / median(peer.init);
    console.log(`init ratio ${v === relay ? 'relay' : 'direct'}/peer:`.padEnd(41) + ` ${r.toFixed(3)}  (${verdict(r, 1)}); without SNS: ${(median(v.init) / median(peerNoSns.init)).toFixed(3)}`);
  }
  console.log(`size ratio direct XOR/peer without SNS:  ${(bytes(files(direct)) / bytes(files(peerNoSns))).toFixed(3)}`);
  console.log(`init+first click ratio direct/peer:      ${(median(direct.firstClick!) / median(peer.firstClick!)).toFixed(3)}`);
  rmSync(OUT, { recursive: true, force: true });
}

await main();
