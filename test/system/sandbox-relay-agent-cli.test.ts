/**
 * `--no-agents --plug-mode relay`: the sandbox runs the relay (plug shadows, the button function
 * writing them) but no agent, so the installed agent can be tried against it. The banner prints
 * the agent's command with the plugs its thing is the hub of (`--plugs`), and that command, run
 * as its own process, switches the plug when the button is clicked. Likewise `--rollout
 * --no-agents`: the printed command carries `--jobs`, and that agent executes an upload's job.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, formatBanner, shellWord } from '../../sandbox/banner';
import { isOn } from '../../sandbox/sandbox-plug';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { publishClick, runCli, waitFor, type CliRun } from '../helpers/sandbox-harness';

describe('sandbox --no-agents --plug-mode relay with `shadowplug agent` run by hand', () => {
  let work: string;
  let sandbox: Sandbox;
  let agent: CliRun | undefined;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-relay-agent-'));
    sandbox = await startSandbox({ dir: join(work, '.sandbox'), agents: false, plugMode: 'relay' });
  });
  afterAll(async () => {
    if (agent && agent.child.exitCode === null) {
      agent.child.kill('SIGINT');
      await agent.exited;
    }
    await sandbox?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the agent command with --plugs, and a click toggles the plug through that agent', async () => {
    const thing = sandbox.info.things[0]!;
    const plug = sandbox.info.plugs![0]!;
    expect(plug).toMatchObject({ mode: 'relay', thing: thing.name });
    const args = agentArgs(sandbox.info, work, thing);
    expect(args).toEqual(expect.arrayContaining(['--plugs', `${plug.id}@${thing.name}=${plug.host}:${plug.port}?protocol=xor&family=iot`]));
    expect(args).not.toContain('--jobs');
    expect(formatBanner(sandbox.info, work)).toContain(['npx', 'shadowplug', ...args].map(shellWord).join(' '));

    agent = runCli(args, { cwd: work });
    // The agent is the hub: once it has reported its plug online, a click reaches the plug.
    await sandbox.waitForPlugShadow(plug.id, (doc) => (doc.state as { reported?: { online?: boolean } } | undefined)?.reported?.online === true, 30_000);
    const before = isOn(await sandbox.plugState(plug.id));
    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => isOn(s) !== before, 20_000, plug.id);
    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => isOn(s) === before, 20_000, plug.id);
  }, 90_000);
});

describe('sandbox --rollout --no-agents with `shadowplug agent` run by hand', () => {
  it('prints the agent command with --jobs, and that agent executes the roll-out job of an upload', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sandbox-rollout-agent-'));
    const sandbox = await startSandbox({ dir: join(work, '.sandbox'), devices: 1, agents: false, plugMode: 'direct', rollout: true, dashboard: false });
    const events: SandboxEvent[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
    let agent: CliRun | undefined;
    try {
      const thing = sandbox.info.things[0]!;
      const args = agentArgs(sandbox.info, work, thing);
      expect(args).toContain('--jobs');
      agent = runCli(args, { cwd: work });
      await sandbox.upload('firmware.bin', 'for a device of my own');
      const ended = await waitFor('the roll-out to end', () => events.find((e) => e.type === 'rollout-ended'), 30_000);
      expect(ended).toMatchObject({ status: 'COMPLETED', succeeded: 1, failed: 0 });
      expect(readFileSync(join(thing.dest, 'firmware.bin'), 'utf8')).toBe('for a device of my own');
    } finally {
      if (agent && agent.child.exitCode === null) {
        agent.child.kill('SIGINT');
        await agent.exited;
      }
      await sandbox.close();
      rmSync(work, { recursive: true, force: true });
    }
  }, 90_000);
});
