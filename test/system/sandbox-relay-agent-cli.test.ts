/**
 * `--no-agents --plug-mode relay`: the sandbox runs the relay (plug shadows, the button function
 * writing them) but no agent, so the installed agent can be tried against it. The banner prints
 * the agent's command with the plugs its thing is the hub of (`--plugs`), and that command, run
 * as its own process, switches the plug when the button is clicked (roll-out mode's `--jobs`:
 * sandbox-rollout-cli.test.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, formatBanner, shellWord } from '../../sandbox/banner';
import { isOn } from '../../sandbox/sandbox-plug';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { publishClick, runCli, type CliRun } from '../helpers/sandbox-harness';

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
