/**
 * Thing groups in the whole sandbox: uploads go to a group's members, listed per upload (cache 0
 * here, a parameter), nested groups included; a device added to the group afterwards gets the
 * next upload; an empty group is a reported no-op; past the fan-out threshold every signed upload
 * goes through the queue, with one summary each. (A missing group: thing-groups-*.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { OBJECT_SETTINGS } from '../../core/s3/settings';
import { waitForEvent } from '../../sandbox/waiters';
import type { SandboxEvent } from '../../sandbox/event-log';

let dir: string;
let sandbox: Sandbox | undefined;

afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(groups: unknown[]): Promise<Sandbox> {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-groups-'));
  const file = join(dir, 'groups.json');
  writeFileSync(file, JSON.stringify(groups));
  sandbox = await startSandbox({ dir: join(dir, 'sb'), devices: 3, groupsFile: file, groupCacheMs: 0, writeInfoFile: false, plugMode: 'direct' });
  return sandbox;
}

const desiredHash = async (sb: Sandbox, thing: string) => ((await sb.shadow(thing)) as { state?: { desired?: { s3?: { hash?: string } } } } | undefined)?.state?.desired?.s3?.hash;

function nextEvent(sb: Sandbox, match: (e: SandboxEvent) => boolean): Promise<SandboxEvent> {
  return new Promise((resolve) => {
    const on = (e: SandboxEvent) => {
      if (!match(e)) return;
      sb.events.off('event', on);
      resolve(e);
    };
    sb.events.on('event', on);
  });
}

describe('sandbox thing groups', () => {
  it('delivers to the members of a group and its nested group, and to a device added later on the next upload', async () => {
    const sb = await start([
      { name: 'site', things: ['shadowplug-device-1'] },
      { name: 'floor', parent: 'site', query: 'thingName:shadowplug-device-2' },
    ]);
    const first = await sb.upload('fw.bin', 'version one');
    await Promise.all(['shadowplug-device-1', 'shadowplug-device-2'].map((t) => sb.waitForReported(t, first.sha256)));
    expect(await desiredHash(sb, 'shadowplug-device-3')).toBeUndefined();

    sb.addThingToGroup('site', 'shadowplug-device-3');
    const second = await sb.upload('fw.bin', 'version two');
    await Promise.all(['shadowplug-device-1', 'shadowplug-device-2', 'shadowplug-device-3'].map((t) => sb.waitForReported(t, second.sha256)));
  });

  it('an empty group is a reported no-op', async () => {
    const sb = await start([{ name: 'nobody', things: [] }]);
    const ignored = nextEvent(sb, (e) => e.type === 'upload-ignored');
    await sb.upload('fw.bin', 'for no one');
    expect(await ignored).toMatchObject({ message: expect.stringMatching(/^no-targets: .*"nobody" has no members/) });
  });

  it('past the fan-out threshold each signed upload reaches every member through the queue, with one SNS summary each', async () => {
    const devices = OBJECT_SETTINGS.fanOutAbove.default + 1;
    dir = mkdtempSync(join(tmpdir(), 'sandbox-groups-'));
    sandbox = await startSandbox({ dir: join(dir, 'sb'), devices, group: 'fleet', writeInfoFile: false, plugMode: 'direct' });
    const sb = sandbox;
    const summaries: string[] = [];
    sb.events.on('event', (e: SandboxEvent) => void (e.type === 'notification' && summaries.push(e.message)));
    for (const [n, body] of ['release one', 'release two'].entries()) {
      const upload = await sb.upload('fw.bin', body);
      await Promise.all(sb.info.things.map((t) => sb.waitForReported(t.name, upload.sha256)));
      await waitForEvent(sb.events, `the summary of upload ${n + 1}`, () => (summaries.length > n ? true : undefined), 20_000);
      expect(summaries).toHaveLength(n + 1);
      expect(summaries[n]).toMatch(new RegExp(`${devices} target devices in 1 batches\\.\\nwritten ${devices}, already current 0`));
    }
    expect(new Set(summaries.map((m) => /\(upload (\w+)\)/.exec(m)?.[1])).size).toBe(2);
  }, 120_000);
});
