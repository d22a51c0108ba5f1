/**
 * `npm run bench -- plug-relay`: click → plug switched in the sandbox, relay mode (through the plug
 * shadow and the hub's agent) next to direct mode (TCP to the plug): median, p95 and the ratio
 * (target: relay ≤ 6 × direct). Also a press on the plug itself → `reported.power` in the plug
 * shadow, bound by the hub's poll interval (BENCH_POLL_MS, default 1000 ms; 10 s in use).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Plug } from '../core/tplink/plug';
import { startSandbox } from '../sandbox/sandbox';
import { nextEvent, timeClicks } from './sandbox-events';
import { median, ms, quantile } from './stats';

const CLICKS = Number(process.env.BENCH_CLICKS ?? 30);
const PRESSES = Number(process.env.BENCH_PRESSES ?? 5);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 1000);

const now = () => performance.now();

async function clicks(plugMode: 'relay' | 'direct'): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${plugMode}-`));
  const sandbox = await startSandbox({ dir, plugMode, writeInfoFile: false });
  try {
    return await timeClicks(sandbox, CLICKS);
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pressToReported(): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-press-'));
  const sandbox = await startSandbox({ dir, plugPollMs: POLL_MS, writeInfoFile: false });
  const times: number[] = [];
  try {
    for (let i = 0; i < PRESSES; i++) {
      const on = i % 2 === 0;
      const reported = nextEvent(sandbox, (e) => e.type === 'plug-reported' && e.power === (on ? 'on' : 'off'));
      // A fresh client per press, closed at once: the hub's poll must not wait for our connection.
      const plug = new Plug({ host: sandbox.info.plug.host, port: sandbox.info.plug.port });
      const t0 = now();
      await plug.setPower(on);
      await plug.close();
      await reported;
      times.push(now() - t0);
    }
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

const direct = await clicks('direct');
const relay = await clicks('relay');
console.log(`click → plug switched, ${CLICKS} clicks each`);
console.log(`  direct  median ${ms(median(direct))}  p95 ${ms(quantile(direct, 0.95))}`);
console.log(`  relay   median ${ms(median(relay))}  p95 ${ms(quantile(relay, 0.95))}`);
console.log(`  relay / direct: median ${(median(relay) / median(direct)).toFixed(2)} ×, p95 ${(quantile(relay, 0.95) / quantile(direct, 0.95)).toFixed(2)} × (target ≤ 6 ×)`);
const press = await pressToReported();
console.log(`press on the plug → reported (poll every ${POLL_MS} ms), ${PRESSES} presses`);
console.log(`  median ${ms(median(press))}  max ${ms(Math.max(...press))}`);
process.exit(0);
