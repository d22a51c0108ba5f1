/**
 * `--no-agents`: the sandbox issues the things but runs no agent, and the device program is the
 * real `shadowplug agent` CLI, started with the exact command the banner prints, as on a device.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, formatBanner } from '../../sandbox/banner';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { runCli, runCliToEnd } from '../helpers/sandbox-harness';

describe('sandbox --no-agents with `shadowplug agent` run by hand', () => {
  let work: string;
  let sandbox: Sandbox;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-agent-cli-'));
    sandbox = await startSandbox({ dir: join(work, '.sandbox'), agents: false });
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('prints the agent command, and that command installs and reports an upload (--once and long-running)', async () => {
    expect(sandbox.info.agents).toBe('none');
    const thing = sandbox.info.things[0]!;
    const args = agentArgs(sandbox.info, work, thing);
    expect(formatBanner(sandbox.info, work)).toContain(`npx shadowplug ${args.join(' ')}`);

    // `--once` installs what the shadow wants, reports it and exits 0.
    const first = await sandbox.upload('once.txt', 'installed by agent --once');
    const once = await runCliToEnd([...args, '--once'], { cwd: work, timeoutMs: 30_000 });
    expect(once.code, once.stderr).toBe(0);
    expect(readFileSync(join(thing.dest, 'once.txt'), 'utf8')).toBe('installed by agent --once');
    await sandbox.waitForReported(thing.name, first.sha256, 5_000);

    // Long-running: follows the next upload, then stops on SIGINT.
    const agent = runCli(args, { cwd: work });
    try {
      const second = await sandbox.upload('live.txt', 'installed by the running agent');
      await sandbox.waitForReported(thing.name, second.sha256, 20_000);
      expect(readFileSync(join(thing.dest, 'live.txt'), 'utf8')).toBe('installed by the running agent');
    } finally {
      agent.child.kill('SIGINT');
      await agent.exited;
    }
  }, 60_000);
});
