import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { startSandbox } from '../sandbox/sandbox';
const N = Number(process.argv[2] ?? 1000);
const work = mkdtempSync(join(tmpdir(), 'fleet-try-'));
let t0 = performance.now();
const sb = await startSandbox({ dir: join(work, 'f'), devices: N, writeInfoFile: false });
console.log('start', N, (performance.now() - t0).toFixed(0), 'ms', 'rss', (process.memoryUsage().rss / 2 ** 20).toFixed(0));
const session = new Session();
session.connect();
for (let i = 0; i < Number(process.argv[3] ?? 2); i++) {
  const body = randomBytes(1 << 20);
  if (process.env.PROF) { await session.post('Profiler.enable'); await session.post('Profiler.start'); }
  t0 = performance.now();
  const { sha256 } = await sb.upload('fleet.bin', body);
  await new Promise<void>((resolve) => {
    const left = new Set(sb.info.things.map((t) => t.name));
    let desired = 0;
    const on = (e: { type: string; thing?: string; hash?: string }) => {
      if (e.type === 'desired' && e.hash === sha256 && ++desired === N) console.log('all desired at', (performance.now() - t0).toFixed(0));
      if (e.type === 'reported' && e.hash === sha256 && left.delete(e.thing!) && left.size === 0) { sb.events.off('event', on); resolve(); }
      if (e.type === 'reported' && left.size === N - 1 && e.hash === sha256) console.log('first reported at', (performance.now() - t0).toFixed(0));
    };
    sb.events.on('event', on);
  });
  console.log('upload→all reported', (performance.now() - t0).toFixed(0), 'ms', 'rss', (process.memoryUsage().rss / 2 ** 20).toFixed(0));
  if (process.env.PROF) { const { profile } = await session.post('Profiler.stop'); writeFileSync(process.env.PROF, JSON.stringify(profile)); }
}
await sb.close();
rmSync(work, { recursive: true, force: true });
