/**
 * What signed releases cost: the agent's check per install (parse, keyId lookup, ECDSA P-256
 * verify, rollback and expiry) and the object Lambda's added work per upload (GET and parse the
 * companion), each against downloading 1 MB from the local S3 on 127.0.0.1 (a floor: over the
 * internet a 1 MB download takes far longer, so the real ratios are smaller still).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { publishRelease } from '../core/release/publish';
import { pemSigner } from '../core/release/signature';
import { withRelease } from '../core/release/companion-read';
import { checkRelease, trustedKeys } from '../core/release/trust';
import { silentLogger } from '../core/logger';
import { startLocalS3 } from '../sandbox/local-s3';
import { makeKey } from '../test/helpers/release-keys';
import { median, timeMs } from './stats';

async function time(runs: number, fn: () => unknown): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await timeMs(fn));
  return median(ms);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-trust-'));
const s3 = await startLocalS3({ dir: join(dir, 's3'), buckets: ['bench'] });
const client = s3.createClient();
try {
  const key = makeKey(dir, 'publisher');
  const body = Buffer.alloc(1 << 20, 7);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const published = await publishRelease(client, { bucket: 'bench', key: 'fw.bin', body, signer: pemSigner(key.privatePem), expires: new Date(Date.now() + 86_400_000) }, sha256);
  const trusted = trustedKeys([key.publicPem]);
  const desired = { raw: { manifest: published.manifest, signature: published.signature } as Record<string, unknown>, bucket: 'bench', key: 'fw.bin', versionId: published.versionId!, hash: sha256, size: body.length };
  if (!checkRelease(desired, trusted, undefined, Date.now()).ok) throw new Error('bench manifest refused');

  const check = await time(2000, () => checkRelease(desired, trusted, { release: 0, sha256 }, Date.now()));
  const download = await time(20, async () => {
    const res = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: 'fw.bin', VersionId: published.versionId }));
    const hash = createHash('sha256');
    for await (const chunk of res.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    hash.digest();
  });
  const state = { exists: true as const, size: body.length, eTag: '', versionId: published.versionId! };
  const lambda = await time(200, () => withRelease(client, 'bench', 'fw.bin', state, silentLogger));
  const pct = (x: number) => `${((x / download) * 100).toFixed(2)} %`;
  console.log(`1 MB download (GET + SHA-256, local S3, median of 20): ${download.toFixed(2)} ms`);
  console.log(`agent: signature check per install (median of 2000): ${(check * 1000).toFixed(0)} µs = ${pct(check)} of the download`);
  console.log(`object Lambda: companion read per upload (median of 200): ${lambda.toFixed(2)} ms = ${pct(lambda)} of the download`);
  // Loopback is a floor for the download; a device's link is slower. Computed, not measured:
  const link = 1000 / 10; // 1 MB at 10 MB/s, in ms
  console.log(`against 1 MB at 10 MB/s (${link} ms, computed): check ${((check / link) * 100).toFixed(3)} %, companion read ${((lambda / link) * 100).toFixed(2)} %`);
} finally {
  client.destroy();
  await s3.close();
  rmSync(dir, { recursive: true, force: true });
}
