/**
 * The upload flow of the sandbox, end to end over real sockets: an object put into the local S3
 * triggers the real object Lambda, which writes `desired.s3` into the thing's shadow; the real
 * agent sees the delta, fetches temporary credentials with its certificate, downloads, verifies,
 * installs into `<dir>/devices/<thing>/` and reports back.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { portIsClosed, sandboxPorts } from '../helpers/sandbox-harness';

type Shadow = { state?: { desired?: Record<string, unknown>; reported?: Record<string, Record<string, unknown>> } };

function bytesOf(seed: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 256));
}

describe('sandbox: an upload reaches the device, verified', () => {
  let dir: string;
  let sandbox: Sandbox;
  const events: SandboxEvent[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-upload-flow-'));
    sandbox = await startSandbox({ dir, devices: 2 });
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('installs the exact bytes on every device and the shadow\'s reported equals desired', async () => {
    const body = bytesOf(1, 256 * 1024);
    const { sha256 } = await sandbox.upload('firmware.bin', body);
    for (const thing of sandbox.info.things) {
      await sandbox.waitForReported(thing.name, sha256);
      expect(readFileSync(join(thing.dest, 'firmware.bin')).equals(body)).toBe(true);
      const shadow = (await sandbox.shadow(thing.name)) as Shadow;
      const desired = shadow.state!.desired!.s3 as Record<string, unknown>;
      const reported = shadow.state!.reported!.s3!;
      expect(desired).toMatchObject({ url: 's3://shadowplug/firmware.bin', hash: sha256 });
      for (const [k, v] of Object.entries(desired)) expect(reported[k], k).toEqual(v);
    }
    // The narration tells the story in order for one device.
    const story = events.filter((e) => !('thing' in e) || e.thing === 'shadowplug-device-1').map((e) => e.type);
    expect(story.indexOf('upload')).toBeLessThan(story.indexOf('hashed'));
    expect(story.indexOf('hashed')).toBeLessThan(story.indexOf('desired'));
    expect(story.indexOf('desired')).toBeLessThan(story.indexOf('installed'));
    expect(story.indexOf('installed')).toBeLessThan(story.indexOf('reported'));
  });

  it('a second upload of the same key replaces the installed file', async () => {
    const first = await sandbox.upload('config.json', '{"v":1}');
    await sandbox.waitForReported('shadowplug-device-1', first.sha256);
    const second = await sandbox.upload('config.json', '{"v":2,"more":true}');
    expect(second.sha256).not.toBe(first.sha256);
    await sandbox.waitForReported('shadowplug-device-1', second.sha256);
    expect(readFileSync(join(sandbox.info.things[0]!.dest, 'config.json'), 'utf8')).toBe('{"v":2,"more":true}');
  });

  it('uploading the same bytes again moves the shadow to the new version, and the device downloads nothing', async () => {
    const thing = 'shadowplug-device-1';
    const { sha256 } = await sandbox.upload('same.txt', 'same bytes');
    await sandbox.waitForReported(thing, sha256);
    const reportedNow = async () => ((await sandbox.shadow(thing)) as Shadow).state!.reported!.s3!;
    const before = await reportedNow();
    const installs = () => events.filter((e) => e.type === 'installed' && 'thing' in e && e.thing === thing && JSON.stringify(e).includes('same.txt')).length;
    const installed = installs();
    await sandbox.upload('same.txt', 'same bytes');
    // The bucket is versioned: the key's current version is the new one, and the value names it.
    const deadline = Date.now() + 20_000;
    let after = await reportedNow();
    while (after.versionId === before.versionId && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      after = await reportedNow();
    }
    expect(after.versionId).not.toBe(before.versionId);
    expect(after).toMatchObject({ hash: sha256, installedAt: before.installedAt });
    expect(installs()).toBe(installed);
  });

  it('a key the device refuses installs nothing, is narrated as a device error and reported in the shadow', async () => {
    const [one] = sandbox.info.things;
    const error = new Promise<SandboxEvent>((resolve) =>
      sandbox.events.on('event', (e: SandboxEvent) => e.type === 'device-error' && e.thing === one!.name && resolve(e)),
    );
    const { sha256 } = await sandbox.upload(`things/${one!.name}/bad\u0001name.txt`, 'x');
    expect(await error).toMatchObject({ message: expect.stringContaining('control characters') });
    const reported = ((await sandbox.shadow(one!.name)) as Shadow).state!.reported!.s3!;
    expect(reported.error).toMatchObject({ hash: sha256 });
    expect(existsSync(join(one!.dest, 'bad\u0001name.txt'))).toBe(false);
    // The next good upload clears it.
    const good = await sandbox.upload(`things/${one!.name}/good.txt`, 'good');
    await sandbox.waitForReported(one!.name, good.sha256);
  });

  it('an upload under things/<other>/ reaches only that device', async () => {
    const [one, two] = sandbox.info.things;
    // Whatever device one holds (when this test runs first, maybe no shadow at all yet) must not change.
    const desiredS3 = async () => ((await sandbox.shadow(one!.name)) as Shadow | undefined)?.state?.desired?.s3;
    const before = await desiredS3();
    const { sha256 } = await sandbox.upload(`things/${two!.name}/only-two.txt`, 'for device two');
    await sandbox.waitForReported(two!.name, sha256);
    expect(readFileSync(join(two!.dest, 'only-two.txt'), 'utf8')).toBe('for device two');
    expect(existsSync(join(one!.dest, 'only-two.txt'))).toBe(false);
    expect(await desiredS3()).toEqual(before);
  });
});

describe('sandbox --devices 20', () => {
  it('one upload reaches all 20 devices, and close leaves no port open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-fleet-'));
    const sandbox = await startSandbox({ dir, devices: 20 });
    try {
      expect(sandbox.info.things).toHaveLength(20);
      const body = bytesOf(7, 64 * 1024);
      const { sha256 } = await sandbox.upload('fleet.bin', body);
      await Promise.all(sandbox.info.things.map((t) => sandbox.waitForReported(t.name, sha256, 60_000)));
      for (const t of sandbox.info.things) expect(readFileSync(join(t.dest, 'fleet.bin')).equals(body)).toBe(true);
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
    for (const port of sandboxPorts(sandbox.info)) expect(await portIsClosed(port)).toBe(true);
  }, 90_000);
});
