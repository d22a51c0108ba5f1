/**
 * A fleet's agents in worker threads (`agentThreads`, chosen by itself from 100 devices on): the
 * same agents over the same sockets, their steps narrated in the sandbox's thread, stopped and
 * started by the same API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../core/logger';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { portIsClosed, sandboxPorts } from '../helpers/sandbox-harness';

describe('sandbox with its agents in worker threads', () => {
  let dir: string;
  let sandbox: Sandbox;
  const events: SandboxEvent[] = [];
  const lines: string[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-agent-threads-'));
    sandbox = await startSandbox({ dir, devices: 3, agentThreads: 2, plugMode: 'direct', logger: createLogger({ level: 'info', write: (l) => lines.push(l) }) });
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
  }, 60_000);
  // Closing the threads with the sandbox leaves no port open: checked last, whatever order the cases ran in.
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
    if (sandbox) for (const port of sandboxPorts(sandbox.info)) expect(await portIsClosed(port), `port ${port} after close`).toBe(true);
  });

  it('runs them there, and one upload is installed and reported by every device, narrated here', async () => {
    expect(lines).toContainEqual(expect.stringMatching(/the 3 agents run in 2 worker threads/));
    // Their own log lines come back through the sandbox's logger, naming the thing.
    expect(lines).toContainEqual(expect.stringMatching(/thing=shadowplug-device-2/));
    const body = Buffer.alloc(200_000, 7);
    const { sha256 } = await sandbox.upload('fleet.bin', body);
    for (const t of sandbox.info.things) {
      await sandbox.waitForReported(t.name, sha256);
      expect(readFileSync(join(t.dest, 'fleet.bin')).equals(body)).toBe(true);
      expect(events).toContainEqual(expect.objectContaining({ type: 'installed', thing: t.name, hash: sha256 }));
    }
  });

  it('stops one agent (narrated offline; it misses an upload) and starts it again (it catches up)', async () => {
    const thing = sandbox.info.things[1]!.name;
    await sandbox.stopAgent(thing);
    expect(events.at(-1)).toEqual(expect.objectContaining({ type: 'device-online', thing, online: false }));
    const { sha256 } = await sandbox.upload('while-away.txt', 'missed');
    await sandbox.waitForReported(sandbox.info.things[0]!.name, sha256);
    expect(events.some((e) => e.type === 'installed' && e.thing === thing && e.hash === sha256)).toBe(false);

    await sandbox.startAgent(thing, { clock: () => Date.now() + 5_000 });
    await sandbox.waitForReported(thing, sha256);
    expect(events).toContainEqual(expect.objectContaining({ type: 'device-online', thing, online: true }));
  });

});
