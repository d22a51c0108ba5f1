/**
 * Started the way a supervisor starts things (through `npx`, and with `node` directly), in a
 * process group of their own: the sandbox and an external agent stop on SIGTERM to the process
 * that was started, or on SIGINT to its process group, gracefully, leaving no process and no
 * port behind. `npx` does not pass SIGTERM on; our process notices npm is gone and stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs, READY_LINE } from '../../sandbox/banner';
import { readSandboxInfo, type SandboxInfo } from '../../sandbox/sandbox-info';
import { isGone, processTree, startGroup, type Started } from '../helpers/process-tree';
import { CLI, portIsClosed, REPO_ROOT, sandboxPorts, waitFor } from '../helpers/sandbox-harness';

/** The bound the issue sets for a stop; waits poll up to it, nothing is timed below it. */
const STOP_BOUND_MS = 5_000;
const AGENT_BUNDLE = join(REPO_ROOT, 'dist', 'shadowplug-agent.mjs');

type Way = 'npx' | 'node';
type Stop = 'SIGTERM to the started process' | 'SIGINT to its process group';

function start(way: Way, what: 'sandbox' | 'agent', args: string[], cwd: string): Started {
  if (way === 'npx') return startGroup('npx', ['shadowplug', what, ...args], { cwd });
  // A supervisor runs the installed agent file; the sandbox is the clone's CLI.
  return what === 'agent' ? startGroup(process.execPath, [AGENT_BUNDLE, ...args], { cwd }) : startGroup(process.execPath, [CLI, 'sandbox', ...args], { cwd });
}

/** Every pid seen in a started tree, for the clean-up after a failed test (orphans included). */
const seen = new Set<number>();

async function stopAndWait(started: Started, how: Stop, ports: number[]): Promise<void> {
  const pid = started.child.pid!;
  const tree = processTree(pid);
  for (const p of tree) seen.add(p);
  if (how === 'SIGTERM to the started process') process.kill(pid, 'SIGTERM');
  else process.kill(-pid, 'SIGINT');
  await waitFor('every process of the tree to end', () => (tree.every(isGone) ? true : undefined), STOP_BOUND_MS);
  const closed = await Promise.all(ports.map(portIsClosed));
  expect(closed, `ports ${ports.join(', ')}`).toEqual(ports.map(() => true));
}

describe('stopping what a supervisor started', () => {
  let work: string;
  const running: Started[] = [];
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'supervised-'));
    // The installed agent file (what `node` runs directly).
    const { buildAgent } = (await import(join(REPO_ROOT, 'scripts/build.mjs'))) as { buildAgent: () => Promise<unknown> };
    await buildAgent();
  }, 120_000);
  afterEach(() => {
    // A failed test must not leave its processes behind.
    for (const s of running.splice(0)) for (const p of processTree(s.child.pid!)) seen.add(p);
    for (const p of seen) if (!isGone(p)) process.kill(p, 'SIGKILL');
    seen.clear();
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const cases: [Way, Stop][] = [
    ['npx', 'SIGTERM to the started process'],
    ['node', 'SIGTERM to the started process'],
    ['npx', 'SIGINT to its process group'],
    ['node', 'SIGINT to its process group'],
  ];
  it.each(cases)('via %s: %s stops the agent, then the sandbox, leaving nothing running or listening', async (way, how) => {
    const dir = mkdtempSync(join(work, 'sandbox-'));
    const sandbox = start(way, 'sandbox', ['--dir', dir, '--no-agents'], REPO_ROOT);
    running.push(sandbox);
    await waitFor(`"${READY_LINE}"`, () => (sandbox.output().includes(READY_LINE) ? true : undefined), 60_000);
    const info: SandboxInfo = readSandboxInfo(dir);

    const agent = start(way, 'agent', agentArgs(info, REPO_ROOT, info.things[0]!).slice(1), REPO_ROOT);
    running.push(agent);
    await waitFor('the agent connected', () => (agent.output().includes('mqtt connected') ? true : undefined), 60_000);

    await stopAndWait(agent, how, []);
    // Graceful: the agent said it stopped (under npx it is not our child, so its status is npm's).
    const agentEnd = await agent.exited;
    expect(agent.output()).toMatch(/stopping signal=SIG(TERM|INT)/);
    expect(agent.output()).toMatch(/\binfo +stopped\b/);
    if (way === 'node') expect(agentEnd).toEqual({ code: 0, signal: null });

    await stopAndWait(sandbox, how, sandboxPorts(info));
    const sandboxEnd = await sandbox.exited;
    expect(sandbox.output()).toContain('sandbox stopped');
    if (way === 'node') expect(sandboxEnd).toEqual({ code: 0, signal: null });
  }, 120_000);
});
