/**
 * The agent's idle state (`Agent.idle`, the `idle` event): what the other tests wait for before
 * asserting that nothing more happened. So it must never come early: not while a download runs,
 * not while a retry waits out its backoff, not while an `--on-update` hook runs, not before the
 * shadow has accepted the agent's report.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { startAgentHarness, untilIdle, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { objectBytes } from '../../helpers/agent-fixtures';

describe('agent idle state (nothing under way, nothing scheduled)', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;

  beforeEach(async () => {
    h = await startAgentHarness();
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await h.close();
  });

  it('is idle once it has read the shadow and reported itself, and again, once, after each change it handled', async () => {
    agent = await startAgent(h.agentOptions());
    const spells: number[] = [];
    agent.on('idle', ({ version }) => spells.push(version));
    // With nothing desired the only work is reporting reported.agent; idle comes after its acceptance.
    await waitFor(() => h.document().reported?.agent !== undefined, 'agent info reported');
    const first = await untilIdle(agent, h.document().version);
    expect(first.version).toBe(h.document().version);

    const desired = await h.put('one.bin', 'one');
    h.setDesired(desired);
    const second = await untilIdle(agent, h.document().version);
    // Idle after the install has been reported and accepted, at that version: nothing is left.
    expect(h.reported()).toMatchObject({ hash: desired.hash });
    expect(second.version).toBe(h.document().version);
    expect(spells).toEqual([first.version, second.version]);
  });

  it('is not idle while a download is under way, nor while a failed one waits to retry', async () => {
    const size = 2 * 1024 * 1024;
    const desired = await h.put('big.bin', objectBytes(size, 7));
    const held = h.proxy.holdAt(size / 2);
    // A retry backoff of at least 30 s: the test ends long before it could run.
    agent = await startAgent(h.agentOptions({ retry: { initialMs: 60_000, maxMs: 60_000 } }));
    await untilIdle(agent, h.document().version); // nothing desired yet
    let idleEvents = 0;
    agent.on('idle', () => idleEvents++);
    h.setDesired(desired);
    await held;
    expect(agent.idle).toBe(false); // mid-download (the proxy holds the rest)

    const failed = new Promise<void>((resolve) => agent!.once('error', () => resolve()));
    h.proxy.cutAll();
    h.proxy.release();
    await failed; // the attempt failed and a retry is scheduled
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined) !== undefined, 'the retryable error reported');
    expect(agent.idle).toBe(false);
    expect(idleEvents).toBe(0);

    // A new value cancels the waiting job; once that one is installed the agent is idle again.
    const small = await h.put('small.bin', 'small');
    h.setDesired(small);
    await untilIdle(agent, h.document().version);
    expect(h.reported()).toMatchObject({ hash: small.hash });
    expect(idleEvents).toBe(1);
  });

  it('is not idle while the --on-update hook runs', async () => {
    const gate = join(h.dir, 'gate');
    const log = join(h.dir, 'hook.log');
    // The hook ends only once the test opens the gate.
    agent = await startAgent(h.agentOptions({ onUpdate: `while [ ! -e '${gate}' ]; do sleep 0.02; done; echo done >> '${log}'` }));
    const desired = await h.put('hooked.bin', 'hooked');
    h.setDesired(desired);
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed and reported');
    let idleEvents = 0;
    agent.on('idle', () => idleEvents++);
    await waitFor(() => agent!.online && h.document().version === agent!.shadowVersion, 'the report seen back by the agent');
    expect(agent.idle).toBe(false);
    expect(existsSync(log)).toBe(false);

    writeFileSync(gate, '');
    await untilIdle(agent, h.document().version);
    expect(readFileSync(log, 'utf8')).toBe('done\n');
    expect(idleEvents).toBe(1);
  });
});
