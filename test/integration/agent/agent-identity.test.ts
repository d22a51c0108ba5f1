/**
 * What the agent says about itself: `reported.agent` in the shadow, and, when a second client
 * connects with the same MQTT client id (the broker drops one whenever the other connects), a
 * log line that says so, with a reconnect backoff that keeps growing instead of resetting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { ShadowSession } from '../../../agent/shadow-session';
import { createLogger } from '../../../core/logger';
import { startAgentHarness, waitFor, type AgentHarness } from '../../helpers/agent-harness';

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

describe('the agent says what runs and who else is connected as it', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;
  const sessions: ShadowSession[] = [];

  beforeEach(async () => {
    h = await startAgentHarness();
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    for (const s of sessions.splice(0)) await s.close();
    await h.close();
  });

  it('reports reported.agent: shadowplug version, Node version, platform and start time', async () => {
    // The start time comes from the agent's clock parameter: record what it handed out.
    const handedOut = new Set<number>();
    const clock = () => {
      const now = Date.now();
      handedOut.add(now);
      return now;
    };
    agent = await startAgent({ ...h.agentOptions(), clock });
    const reported = await waitFor(() => h.document().reported?.agent !== undefined, 'reported.agent').then(() => h.document().reported?.agent as Record<string, string>);
    expect(reported).toEqual({ version: PACKAGE_VERSION, node: process.version, platform: `${process.platform}-${process.arch}`, startedAt: expect.any(String) });
    expect(new Date(Date.parse(reported.startedAt!)).toISOString()).toBe(reported.startedAt);
    expect(handedOut.has(Date.parse(reported.startedAt!))).toBe(true);
  });

  it('says "another client is connected as <id>?" when two clients share the id, and keeps backing off', async () => {
    const lines: { message: string; attempt?: number; clientId?: string }[][] = [[], []];
    const opts = h.agentOptions();
    for (const i of [0, 1]) {
      const session = new ShadowSession({
        host: opts.endpoint,
        port: opts.port!,
        cert: readFileSync(opts.cert),
        key: readFileSync(opts.key),
        ca: readFileSync(opts.caFile!),
        clientId: h.thing,
        thingName: h.thing,
        reconnect: { initialMs: 20, maxMs: 400 },
        logger: createLogger({ level: 'info', json: true, write: (l) => lines[i]!.push(JSON.parse(l)) }),
      });
      sessions.push(session);
      session.start();
    }
    const warned = () => lines.flat().find((l) => l.message.endsWith(`another client is connected as ${h.thing}?`));
    await waitFor(() => warned() !== undefined, 'the duplicate client id warning', 20_000);
    expect(warned()).toMatchObject({ clientId: h.thing });
    // Reconnect attempts keep counting up across successful connects (never reset to 1 mid-fight).
    const attempts = (i: number) => lines[i]!.filter((l) => l.message === 'mqtt disconnected, reconnecting').map((l) => l.attempt!);
    await waitFor(() => Math.max(...attempts(0), ...attempts(1)) >= 4, 'four reconnects by one client', 20_000);
    for (const i of [0, 1]) expect(attempts(i)).toEqual(attempts(i).map((_, n) => n + 1));
  });
});
