import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from './sandbox/sandbox';
const N = 60;
const sb = await startSandbox({ dir: mkdtempSync(join(tmpdir(), 'snap-')), devices: N, group: 'fleet', writeInfoFile: false });
sb.events.on('event', (e: any) => { if (!['progress', 'installed', 'reported', 'desired'].includes(e.type)) console.log(new Date().toISOString().slice(17, 23), e.type, e.subject ?? e.key ?? '', (e.message ?? '').slice(0, 150).replace(/\n/g, ' | ')); });
for (let u = 0; u < 3; u++) {
  const { sha256 } = await sb.upload('fleet.bin', randomBytes(1000));
  let left = N;
  await new Promise<void>((r) => sb.events.on('event', (e: any) => { if (e.type === 'reported' && e.hash === sha256 && --left === 0) r(); }));
  console.log('--- delivered', u + 1);
}
await new Promise((r) => setTimeout(r, 5000));
await sb.close();
