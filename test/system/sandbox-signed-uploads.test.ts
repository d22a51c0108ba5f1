/**
 * The sandbox's files are signed releases: `npx shadowplug sandbox upload` (the CLI, its own
 * process) publishes with the sandbox's key, its agents trust only that key, and what they refuse
 * (an older release, an unsigned object put straight into the bucket) shows in `reported.s3`
 * with the refusal's code, the installed file untouched.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { counterKey } from '../../core/release/companion';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { sandboxS3Client } from '../../sandbox/upload';
import { runCliToEnd, waitFor } from '../helpers/sandbox-harness';
import { makeKey } from '../helpers/release-keys';

interface S3Value {
  hash?: string;
  manifest?: { release: number; keyId: string };
  error?: { code: string; hash: string | null };
}

describe('signed uploads in the sandbox', () => {
  let work: string;
  let sandbox: Sandbox;
  let thing: { name: string; dest: string };
  const reported = async (): Promise<S3Value | undefined> => ((await sandbox.shadow(thing.name)) as { state?: { reported?: { s3?: S3Value } } } | undefined)?.state?.reported?.s3;
  const upload = (file: string, ...flags: string[]) => runCliToEnd(['sandbox', 'upload', file, '--dir', join(work, '.sandbox'), '--json', ...flags], { cwd: work, timeoutMs: 30_000 });
  const sha256 = (bytes: string) => createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-signed-'));
    sandbox = await startSandbox({ dir: join(work, '.sandbox'), devices: 1 });
    thing = sandbox.info.things[0]!;
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('`sandbox upload` of a file ends verified on the device: the release number in reported.s3, the bytes installed', async () => {
    writeFileSync(join(work, 'fw.bin'), 'release one');
    const first = await upload('fw.bin');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ key: 'fw.bin', release: 1, sha256: sha256('release one') });
    await sandbox.waitForReported(thing.name, sha256('release one'));
    expect(await reported()).toMatchObject({ hash: sha256('release one'), manifest: { release: 1 } });
    expect((await reported())?.error).toBeUndefined();
    expect(readFileSync(join(thing.dest, 'fw.bin'), 'utf8')).toBe('release one');

    writeFileSync(join(work, 'fw.bin'), 'release two');
    expect((await upload('fw.bin')).code).toBe(0);
    await sandbox.waitForReported(thing.name, sha256('release two'));
    expect(await reported()).toMatchObject({ manifest: { release: 2 } });
  }, 60_000);

  it('a re-upload with --release 1 after release 2: refused by the publisher, and — its counter gone — by the device with RELEASE_ROLLBACK', async () => {
    // A key of its own, so the case does not depend on another having published first.
    for (const [n, text] of [[1, 'rollback one'], [2, 'rollback two']] as const) {
      writeFileSync(join(work, 'rb.bin'), text);
      const published = await upload('rb.bin');
      expect(published.code, published.stderr).toBe(0);
      expect(JSON.parse(published.stdout)).toMatchObject({ key: 'rb.bin', release: n });
      await sandbox.waitForReported(thing.name, sha256(text));
    }
    writeFileSync(join(work, 'rb.bin'), 'rollback one');
    const refused = await upload('rb.bin', '--release', '1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--release 1 is not above release 2, the last one published for rb\.bin/);

    // Whoever can write to the bucket removes the counter; the publisher then takes release 1 again.
    const s3 = sandboxS3Client(sandbox.info);
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: counterKey('rb.bin') }));
    } finally {
      s3.destroy();
    }
    const replayed = await upload('rb.bin', '--release', '1');
    expect(replayed.code, replayed.stderr).toBe(0);
    const value = await waitFor('the device to refuse release 1', async () => ((await reported())?.error?.code === 'RELEASE_ROLLBACK' ? reported() : undefined), 20_000);
    expect(value).toMatchObject({ hash: sha256('rollback two'), manifest: { release: 2 }, error: { code: 'RELEASE_ROLLBACK', hash: sha256('rollback one') } });
    expect(readFileSync(join(thing.dest, 'rb.bin'), 'utf8')).toBe('rollback two');
  }, 60_000);

  it("a release signed with --signing-key of a key the devices do not trust is refused with RELEASE_UNKNOWN_KEY", async () => {
    const own = makeKey(work, 'own');
    writeFileSync(join(work, 'mine.bin'), 'my own key');
    const r = await upload('mine.bin', '--signing-key', own.privatePath);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ keyId: own.keyId, release: 1 });
    await waitFor('the device to refuse mine.bin', async () => ((await reported())?.error?.code === 'RELEASE_UNKNOWN_KEY' ? true : undefined), 20_000);
    expect(() => readFileSync(join(thing.dest, 'mine.bin'))).toThrow(/ENOENT/);
  }, 30_000);

  it('an unsigned object put straight into the bucket with an S3 client is refused with RELEASE_UNSIGNED, never installed', async () => {
    const s3 = sandboxS3Client(sandbox.info);
    try {
      await s3.send(new PutObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: 'plain.bin', Body: 'not signed' }));
    } finally {
      s3.destroy();
    }
    const value = await waitFor('the device to refuse plain.bin', async () => ((await reported())?.error?.code === 'RELEASE_UNSIGNED' ? reported() : undefined), 20_000);
    expect(value?.error?.hash).toBe(sha256('not signed'));
    expect(() => readFileSync(join(thing.dest, 'plain.bin'))).toThrow(/ENOENT/);
  }, 30_000);
});
