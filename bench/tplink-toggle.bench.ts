/**
 * Toggle an HS100, given only its address: shadowplug's plugAction (one connection, query + set)
 * side by side with tplink-smarthome-api (getDevice + togglePowerState: a connection and a query
 * per request, three in all). Alternating order each round keeps warm-up and GC fair.
 *
 * 1. against tplink-smarthome-simulator's HS100 (the reference run; target ours ≤ 0.33 × peer).
 *    Note: the simulator answers through setTimeout(0), about 1 ms per request, for both clients.
 * 2. against a zero-delay stand-in (test/helpers/fault-plug.ts, mode 'ok'), which shows the
 *    clients' own cost without that floor.
 */
import tplinkApi from 'tplink-smarthome-api'; // CommonJS: named exports are not visible to ESM
import { plugAction } from '../core/tplink/operations';
import { startSimulatedPlug } from '../test/helpers/tplink-simulator';
import { startFaultPlug } from '../test/helpers/fault-plug';
import { ms, quantile, timeMs as time } from './stats';

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = 30;

async function compare(label: string, host: string, port: number): Promise<number> {
  const client = new tplinkApi.Client({ logLevel: 'silent' });
  const ours = async () => {
    await plugAction({ host, port }, 'toggle');
  };
  const peer = async () => {
    const device = await client.getDevice({ host, port });
    await device.togglePowerState();
  };
  for (let i = 0; i < WARMUP; i++) {
    await ours();
    await peer();
  }
  const oursMs: number[] = [];
  const peerMs: number[] = [];
  for (let i = 0; i < N; i++) {
    if (i % 2 === 0) {
      oursMs.push(await time(ours));
      peerMs.push(await time(peer));
    } else {
      peerMs.push(await time(peer));
      oursMs.push(await time(ours));
    }
  }
  const ourMedian = quantile(oursMs, 0.5);
  const peerMedian = quantile(peerMs, 0.5);
  const fmt = (x: number) => ms(x, 3);
  console.log(`${label}, N=${N} each, alternating order`);
  console.log(`  shadowplug plugAction        median ${fmt(ourMedian)}  p90 ${fmt(quantile(oursMs, 0.9))}`);
  console.log(`  tplink-smarthome-api toggle  median ${fmt(peerMedian)}  p90 ${fmt(quantile(peerMs, 0.9))}`);
  console.log(`  ratio ours/peer (median)     ${(ourMedian / peerMedian).toFixed(3)}`);
  return ourMedian / peerMedian;
}

const sim = await startSimulatedPlug('hs100');
const ratio = await compare('toggle of a tplink-smarthome-simulator HS100 on 127.0.0.1', sim.host, sim.port);
await sim.stop();
console.log(`  target ≤ 0.33: ${ratio <= 0.33 ? 'met' : 'NOT met'}`);
if (sim.errors.length > 0) {
  console.error('simulator errors:', sim.errors);
  process.exit(1);
}

const fast = await startFaultPlug({ mode: 'ok' });
await compare('\ntoggle of a zero-delay HS100 stand-in on 127.0.0.1', fast.host, fast.port);
console.log(`  (stand-in saw ${fast.connections} connections and ${fast.requests.length} requests in all)`);
await fast.close();
