/**
 * A defect that escapes every handler in the sandbox process still tears the sandbox down:
 * every port closed and sandbox.json removed (so `sandbox upload` and `sandbox click` say no
 * sandbox is running instead of finding a dead one), and the exit code says it failed.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { READY_LINE } from '../../sandbox/banner';
import type { SandboxInfo } from '../../sandbox/sandbox-info';
import { portIsClosed, REPO_ROOT, runCli, sandboxPorts } from '../helpers/sandbox-harness';

describe('a sandbox whose process meets an uncaught error', () => {
  const work = mkdtempSync(join(tmpdir(), 'sandbox-crash-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('closes every port, removes sandbox.json and exits 1, naming the error', async () => {
    const dir = join(work, '.sandbox');
    const run = runCli(['sandbox', '--json', '--no-agents', '--dir', dir], {
      env: {
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${join(REPO_ROOT, 'test', 'helpers', 'crash-when-ready.mjs')}`,
        SHADOWPLUG_TEST_CRASH_WHEN: join(dir, 'sandbox.json'),
      },
    });
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const info = JSON.parse(await run.waitForLine((l) => l.startsWith('{'))) as SandboxInfo;
    const { code } = await run.exited;
    expect(code, run.stderr()).toBe(1);
    expect(run.stderr()).toContain('injected defect');
    expect(existsSync(join(dir, 'sandbox.json'))).toBe(false);
    for (const port of sandboxPorts(info)) expect(await portIsClosed(port), `port ${port}`).toBe(true);
  });
});
