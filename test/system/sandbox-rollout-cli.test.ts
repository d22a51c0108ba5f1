/**
 * `npx shadowplug sandbox --no-agents --rollout-config '<CreateJob's sections>'` as a person runs
 * it, every part its own process: the sandbox, the agent started from the banner's command (a
 * device of the user's own, with `--jobs`), and `sandbox upload`. The flag's
 * `jobExecutionsRolloutConfig` decides the first wave (1 device a minute of 2), and the device
 * notified executes the job.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentArgs, READY_LINE } from '../../sandbox/banner';
import { readSandboxInfo } from '../../sandbox/sandbox-info';
import { runCli, runCliToEnd, type CliRun } from '../helpers/sandbox-harness';

describe('npx shadowplug sandbox --no-agents --rollout-config', () => {
  const work = mkdtempSync(join(tmpdir(), 'sandbox-rollout-cli-'));
  const dir = join(work, '.sandbox');
  const runs: CliRun[] = [];
  afterAll(async () => {
    for (const run of runs.reverse()) {
      if (run.child.exitCode === null && run.child.signalCode === null) {
        run.child.kill('SIGINT');
        await run.exited;
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('rolls an upload out at the configured rate to a device whose agent was started by hand', async () => {
    const config = { jobExecutionsRolloutConfig: { maximumPerMinute: 1 }, abortConfig: { criteriaList: [] } };
    const sandbox = runCli(['sandbox', '--devices', '2', '--no-agents', '--no-dashboard', '--plug-mode', 'direct', '--rollout-config', JSON.stringify(config), '--dir', dir], { cwd: work });
    runs.push(sandbox);
    await sandbox.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const info = readSandboxInfo(dir);
    expect(info.rollout).toBe(true);

    writeFileSync(join(work, 'fw.bin'), 'staged');
    expect((await runCliToEnd(['sandbox', 'upload', 'fw.bin', '--dir', dir], { cwd: work })).code).toBe(0);
    await sandbox.waitForLine((l) => / rollout +fw\.bin → job sp-[0-9a-f]{24} for 2 things /.test(l));
    // 1 a minute: one device now, the other a minute later.
    const wave = await sandbox.waitForLine((l) => / rollout +sp-[0-9a-f]{24} minute 0: 1 notified \(/.test(l));
    const notified = /notified \((\S+)\)/.exec(wave)![1]!;
    const thing = info.things.find((t) => t.name === notified)!;

    const args = agentArgs(info, work, thing);
    expect(args).toContain('--jobs');
    runs.push(runCli(args, { cwd: work }));
    await sandbox.waitForLine((l) => new RegExp(` device +${notified} job sp-[0-9a-f]{24} SUCCEEDED$`).test(l), 30_000);
    expect(readFileSync(join(thing.dest, 'fw.bin'), 'utf8')).toBe('staged');
  }, 90_000);
});
