/**
 * `shadowplug sandbox --rollout`, programmatically: an upload becomes a job for every thing (or,
 * with thing groups, their members), the agents execute it, and the narration shows the roll-out
 * from creation to its SNS message; with
 * `agents: false` the job waits, queued, for devices of the user's own; a bad roll-out config
 * names the flag.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { formatEvent, type SandboxEvent } from '../../sandbox/event-log';
import { waitFor } from '../helpers/sandbox-harness';

describe('sandbox roll-out mode', () => {
  let dir: string | undefined;
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes an upload a job that every device executes, narrated to the SNS message', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-rollout-'));
    sandbox = await startSandbox({ dir, devices: 3, rollout: '{"jobExecutionsRolloutConfig":{"maximumPerMinute":10}}' });
    const events: SandboxEvent[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
    const { sha256 } = await sandbox.upload('firmware.bin', 'roll me out');
    const ended = await waitFor('the roll-out to end', () => events.find((e) => e.type === 'rollout-ended'), 30_000);
    expect(ended).toMatchObject({ status: 'COMPLETED', succeeded: 3, failed: 0, notNotified: 0 });
    for (const thing of sandbox.info.things) expect(readFileSync(join(thing.dest, 'firmware.bin'), 'utf8')).toBe('roll me out');
    const created = events.find((e) => e.type === 'rollout-created');
    expect(created).toMatchObject({ key: 'firmware.bin', hash: sha256, targets: 3 });
    // Narrated in order: the job before its first wave (released inside CreateJob).
    expect(events.indexOf(created!)).toBeLessThan(events.findIndex((e) => e.type === 'rollout-wave'));
    expect(events.filter((e) => e.type === 'rollout-wave').map((e) => (e as { things: string[] }).things.length)).toEqual([3]);
    expect(events.find((e) => e.type === 'notification')).toMatchObject({ subject: expect.stringMatching(/roll-out sp-[0-9a-f]{24} completed/) });
    const lines = events.map((e) => formatEvent(e));
    expect(lines.some((l) => l.startsWith('rollout  sp-') && l.includes('COMPLETED: 3 succeeded'))).toBe(true);
    // The shadow path stays untouched: nothing desired, the installed file reported.
    const shadow = (await sandbox.shadow(sandbox.info.things[0]!.name)) as { state: { desired?: unknown; reported: { s3: { hash: string }; job: { status: string } } } };
    expect(shadow.state.desired).toBeUndefined();
    expect(shadow.state.reported).toMatchObject({ s3: { hash: sha256 }, job: { status: 'SUCCEEDED' } });
  }, 60_000);

  it("targets the fleet's thing groups, as uploads on the shadow path go to them: members only", async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-rollout-groups-'));
    const groupsFile = join(dir, 'groups.json');
    writeFileSync(groupsFile, JSON.stringify([{ name: 'lobby', things: ['shadowplug-device-1', 'shadowplug-device-3'] }]));
    sandbox = await startSandbox({ dir: join(dir, 'sb'), devices: 3, groupsFile, plugMode: 'direct', rollout: true });
    const events: SandboxEvent[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
    await sandbox.upload('firmware.bin', 'lobby only');
    const ended = await waitFor('the roll-out to end', () => events.find((e) => e.type === 'rollout-ended'), 30_000);
    expect(ended).toMatchObject({ status: 'COMPLETED', succeeded: 2, notNotified: 0 });
    expect(events.find((e) => e.type === 'rollout-created')).toMatchObject({ targets: 2 });
    const installed = sandbox.info.things.map((t) => existsSync(join(t.dest, 'firmware.bin')));
    expect(installed).toEqual([true, false, true]);
  }, 60_000);

  it('with no agents, queues the job for devices of your own', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-rollout-none-'));
    sandbox = await startSandbox({ dir, devices: 2, agents: false, plugMode: 'direct', rollout: true });
    const events: SandboxEvent[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
    await sandbox.upload('firmware.bin', 'for your own devices');
    const wave = await waitFor('the first wave', () => events.find((e) => e.type === 'rollout-wave'), 30_000);
    expect(wave).toMatchObject({ minute: 0, things: sandbox.info.things.map((t) => t.name) });
    expect(existsSync(join(sandbox.info.things[0]!.dest, 'firmware.bin'))).toBe(false);
  }, 60_000);

  it('refuses a roll-out config AWS would refuse, naming the flag', async () => {
    await expect(startSandbox({ rollout: '{"jobExecutionsRolloutConfig":{"maximumPerMinute":5000}}', writeInfoFile: false })).rejects.toThrow(/--rollout-config\.jobExecutionsRolloutConfig\.maximumPerMinute/);
  });
});
