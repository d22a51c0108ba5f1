/**
 * Issue 24's report, through the whole sandbox: a 30 MB file A and a 300-byte file B uploaded to
 * the same key, B's PUT right after A's, so A's invocation (hashing 30 MB) is still at work when
 * B's has written. Once both invocations have finished and the device has caught up, the shadow's
 * desired and reported values and the installed file are B, which is what the bucket serves.
 * (The interleaving itself is forced in test/integration/s3/racing-uploads.test.ts; this shows the
 * user's scenario end to end.)
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { waitForEvent } from '../../sandbox/waiters';
import { sandboxS3Client } from '../../sandbox/upload';

type Shadow = { state?: { desired?: { s3?: Record<string, unknown> }; reported?: { s3?: Record<string, unknown> } } };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('sandbox: two uploads of one key, the second right after the first', () => {
  let dir: string;
  let sandbox: Sandbox;
  const events: SandboxEvent[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-racing-uploads-'));
    sandbox = await startSandbox({ dir, devices: 1 });
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
  }, 60_000);
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends with desired, reported and the installed file all naming B, the bytes the bucket serves', async () => {
    const thing = sandbox.info.things[0]!;
    const a = Buffer.alloc(30 << 20, 'a');
    const b = Buffer.alloc(300, 'b');
    await sandbox.upload('r.bin', a);
    await sandbox.upload('r.bin', b);
    // Every invocation has finished, each with its outcome narrated: two per upload, since each is
    // published as a signed release (the object's event and its companion's).
    const done = (e: SandboxEvent) => (e.type === 'shadows-written' || e.type === 'upload-ignored' || e.type === 'upload-failed' || e.type === 'release-pending') && e.key === 'r.bin';
    await waitForEvent(sandbox.events, 'the four invocations of r.bin', () => (events.filter(done).length >= 4 ? true : undefined), 60_000);
    const desired = ((await sandbox.shadow(thing.name)) as Shadow).state!.desired!.s3!;
    await sandbox.waitForReported(thing.name, desired.hash as string, 60_000);

    const client = sandboxS3Client(sandbox.info);
    try {
      const served = await client.send(new GetObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: 'r.bin' }));
      const bytes = await served.Body!.transformToByteArray();
      expect(sha256(bytes)).toBe(sha256(b));
      expect(desired).toMatchObject({ hash: sha256(b), size: 300, versionId: served.VersionId });
    } finally {
      client.destroy();
    }
    const reported = ((await sandbox.shadow(thing.name)) as Shadow).state!.reported!.s3!;
    expect(reported).toMatchObject({ hash: sha256(b), versionId: desired.versionId });
    expect(readFileSync(join(thing.dest, 'r.bin')).equals(b)).toBe(true);
  }, 120_000);
});
