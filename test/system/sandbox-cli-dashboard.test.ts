/**
 * The CLI with its dashboard and a fleet: `shadowplug sandbox` serves the dashboard on 127.0.0.1
 * (named in the banner and as `dashboard` in the --json ready line), and an upload to many
 * devices is told in the terminal as summary lines, not a line per device and progress step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { READY_LINE } from '../../sandbox/banner';
import type { SandboxInfo } from '../../sandbox/sandbox-info';
import { portIsClosed, runCli, runCliToEnd, type CliRun } from '../helpers/sandbox-harness';

describe('npx shadowplug sandbox: dashboard and fleet narration', () => {
  let run: CliRun | undefined;
  let work: string | undefined;
  afterEach(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('names the dashboard in the --json ready line, serves the page there, and closes it on stop', async () => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-cli-dashboard-'));
    run = runCli(['sandbox', '--json', '--dir', join(work, '.sandbox')]);
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const info = JSON.parse(await run.waitForLine((l) => l.startsWith('{'))) as SandboxInfo;
    expect(info.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(info.dashboard!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>shadowplug sandbox</title>');
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(await portIsClosed(Number(new URL(info.dashboard!).port))).toBe(true);
  });

  it('tells an upload to 5 devices as fleet summary lines, not a line per device step', async () => {
    work = mkdtempSync(join(tmpdir(), 'sandbox-cli-fleet-'));
    const dir = join(work, '.sandbox');
    run = runCli(['sandbox', '--devices', '5', '--dir', dir], { cwd: work });
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const banner = await run.waitForLine((l) => l.startsWith('Dashboard: '));
    expect(banner).toMatch(/^Dashboard: http:\/\/127\.0\.0\.1:\d+\/ /);

    const file = join(work, 'firmware.bin');
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024, 7));
    const upload = await runCliToEnd(['sandbox', 'upload', file, '--dir', dir], { cwd: work });
    expect(upload.code, upload.stderr).toBe(0);
    await run.waitForLine((l) => /fleet {4}s3:\/\/shadowplug\/firmware\.bin sha256 [0-9a-f]{12}…: 5\/5 devices verified in \d+\.\d\d s$/.test(l), 30_000);
    const events = run.stdoutLines.filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l)).map((l) => l.slice(13));
    expect(events.filter((l) => /^(device|shadow) /.test(l)), events.join('\n')).toEqual([]);
    expect(events.filter((l) => l.startsWith('fleet')).length).toBeLessThanOrEqual(6);
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
  });
});
