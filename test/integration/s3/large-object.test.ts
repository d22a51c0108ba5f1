/**
 * A 300 MB object through the real local S3: the hash equals `sha256sum` of the same file, and
 * memory stays bounded (the object is streamed, never held whole).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Event } from 'aws-lambda';
import { startS3Rig, startSandboxShadows, type S3Rig, type ShadowBackend } from '../../helpers/s3-handler-rig';

const SIZE = 300 * 1024 * 1024;
/** Read-ahead is partSize × concurrency = 64 MiB with the defaults; allow for sockets, the server and GC lag. */
const RSS_GROWTH_LIMIT = 160 * 1024 * 1024;

async function writeFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const block = randomBytes(1024 * 1024);
  for (let written = 0, n = 0; written < size; n++) {
    const chunk = Buffer.from(block.subarray(0, Math.min(block.length, size - written)));
    chunk.writeUInt32BE(n, 0); // every block differs, so a misordered part changes the hash
    written += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

describe('a 300 MB object', () => {
  let rig: S3Rig;
  let shadows: ShadowBackend;
  let file: string;
  let expected: string | undefined;
  let event: S3Event | undefined;

  beforeAll(async () => {
    rig = await startS3Rig();
    shadows = await startSandboxShadows();
    file = join(rig.dir, 'upload.bin');
    await writeFile(file, SIZE);
  }, 120_000);
  afterAll(async () => {
    await shadows?.close();
    await rig?.close(); // removes the directory, the file and the server's copy with it
  });

  // On loopback the adaptive reader keeps its one stream; `Infinity` forces the ranged reads (the
  // path a slow connection switches to), so both are held to the hash and the memory bound.
  it.each([
    ['adaptive (default: one fast stream)', 'lamp', undefined],
    ['parallel ranged GETs from the start', 'lamp-ranged', Infinity],
  ] as const)('%s: hashed to the same value as sha256sum, streamed in bounded memory', async (label, thing, parallelBelowMiBPerS) => {
    expected ??= execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0];
    event ??= await rig.put('large/upload.bin', createReadStream(file), statSync(file).size);
    const handler = rig.handler({ targetThings: [thing], ...(parallelBelowMiBPerS !== undefined ? { parallelBelowMiBPerS } : {}) }, shadows.client());

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    let outcome;
    try {
      outcome = await handler(event);
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, process.memoryUsage().rss);

    expect(outcome.records[0]).toMatchObject({ status: 'applied', hash: expected, hashSource: 'read' });
    expect(shadows.desired(thing)?.s3).toMatchObject({ hash: expected, size: SIZE });
    console.log(`300 MB object, ${label}: rss growth while hashing ${((peak - baseline) / 1048576).toFixed(1)} MiB (limit ${RSS_GROWTH_LIMIT / 1048576} MiB)`);
    expect(peak - baseline).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 120_000);
});
