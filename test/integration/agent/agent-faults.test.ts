import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { nextEvent, nextSettled, startAgentHarness, untilIdle, waitFor, watchFinalPath, type AgentHarness } from '../../helpers/agent-harness';
import type { SyncOutcome } from '../../../agent/file-sync';
import { objectBytes, sha256 } from '../../helpers/agent-fixtures';
import { startTcpProxy } from '../../helpers/agent-tcp-proxy';

const BIG = 4 * 1024 * 1024;

describe('device agent under faults: only verified files at the final path, and a truthful reported value', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;

  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await h?.close();
  });

  /** After each scenario: the file is exactly what `reported` says, and no working files are left. */
  function expectTruth(name: string, content: Buffer | string): void {
    const path = join(h.dest, name);
    const bytes = Buffer.isBuffer(content) ? content : Buffer.from(content);
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(h.reported()).toMatchObject({ hash: sha256(bytes), path });
    expect(readdirSync(h.dest).filter((n) => n.startsWith('.shadowplug-'))).toEqual([]);
  }

  /** Resolves once the agent has received `bytes` of the download under way. */
  function received(a: Agent, bytes: number): Promise<void> {
    return new Promise((resolve) => a.on('progress', (p) => p.bytes >= bytes && resolve()));
  }

  /** A failure the agent settled on for good (no retry follows). */
  const failedFor = (code: string) => (o: SyncOutcome) => o.status === 'failed' && o.error.code === code;

  async function installFirst(name: string, content: string | Buffer) {
    const first = await h.put(name, content);
    h.setDesired(first);
    await waitFor(() => h.reported()?.hash === first.hash, `${name} installed`);
    return first;
  }

  it('refuses a tampered object (hash mismatch), reports the error with the hash tried, and installs once the bucket is right', async () => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions());
    await installFirst('fw.bin', 'v1');
    const good = Buffer.from('v2 as uploaded');
    const watch = watchFinalPath(join(h.dest, 'fw.bin'), [sha256('v1'), sha256(good)]);
    await h.put('fw.bin', 'v2 as TAMPERED'); // same length, other bytes
    h.setDesired({ url: `s3://shadowplug/fw.bin`, hash: sha256(good), size: good.length });
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined)?.code === 'HASH_MISMATCH', 'mismatch reported');
    expect(h.reported()?.error).toMatchObject({ code: 'HASH_MISMATCH', hash: sha256(good) });
    expect(h.reported()?.hash).toBe(sha256('v1'));
    expect(readFileSync(join(h.dest, 'fw.bin'), 'utf8')).toBe('v1');

    await h.put('fw.bin', good);
    await waitFor(() => h.reported()?.hash === sha256(good), 'retry installs the right bytes');
    expect(h.reported()?.error).toBeUndefined();
    expectTruth('fw.bin', good);
    await watch.stop();
  });

  it.each([
    ['../../etc/passwd', "'..' segment"],
    ['/etc/passwd', 'absolute path'],
  ])('refuses the key %s without touching S3 or the file system', async (key, reason) => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions());
    await installFirst('ok.txt', 'fine');
    const gets = h.s3Gets();
    const hash = sha256('evil');
    h.setDesired({ url: `s3://shadowplug/${key}`, hash });
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined)?.code === 'UNSAFE_KEY', 'unsafe key reported');
    // Idle having seen its own error report: nothing retried, nothing scheduled to be.
    await untilIdle(agent, h.document().version);
    expect((h.reported()?.error as { message: string }).message).toContain(reason);
    expect(h.reported()?.error).toMatchObject({ hash });
    expect(h.s3Gets()).toBe(gets);
    expect(existsSync(resolve(h.dest, key.replace(/^\//, '')))).toBe(false);
    expect(existsSync(resolve(h.dest, '../../etc/passwd'))).toBe(false);
    expectTruth('ok.txt', 'fine');
  });

  it('refuses an object larger than --max-size, from the desired size or from what S3 declares, and does not retry', async () => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions({ maxSize: 1000 }));
    await installFirst('small.txt', 'tiny');
    const big = await h.put('big.bin', objectBytes(5000, 2));
    const gets = h.s3Gets();
    const declared = nextSettled(agent, failedFor('OBJECT_TOO_LARGE'));
    h.setDesired(big);
    await declared;
    expect(h.s3Gets()).toBe(gets);

    // Without a size in the desired value the limit applies to what S3 says, before any byte is kept.
    // Settling as failed means no retry is scheduled; by then exactly one GET was made.
    const fromS3 = nextSettled(agent, failedFor('OBJECT_TOO_LARGE'));
    h.setDesired({ url: big.url, hash: big.hash, size: null });
    await fromS3;
    expect(h.s3Gets()).toBe(gets + 1);
    expect(h.reported()?.error).toMatchObject({ code: 'OBJECT_TOO_LARGE', hash: big.hash });
    expect((h.reported()?.error as { message: string }).message).toContain('limit of 1000 bytes');
    expect(existsSync(join(h.dest, 'big.bin'))).toBe(false);
    expectTruth('small.txt', 'tiny');
  });

  it('fetches new credentials when the cached ones near expiry, also for the resumed part of a download', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = () => now;
    h = await startAgentHarness({ iot: { clock, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', lifetimeSeconds: 900 } } });
    agent = await startAgent(h.agentOptions({ clock, credentialsRefreshMarginMs: 60_000 }));
    await installFirst('one.txt', '1');
    expect(agent.credentialFetches).toBe(1);
    await installFirst('two.txt', '2');
    expect(agent.credentialFetches).toBe(1); // still valid: cached

    const data = objectBytes(BIG, 5);
    const desired = await h.put('three.bin', data);
    const held = h.proxy.holdAt(h.proxy.downstreamBytes + BIG / 2);
    const halfway = received(agent, BIG / 2 - 4096); // all that passed the proxy, but the response head
    h.setDesired(desired);
    await held;
    now += 15 * 60_000; // the credentials expire mid-download
    await halfway;
    h.proxy.cutAll();
    h.proxy.release();
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed after resume');
    expect(agent.credentialFetches).toBe(2);
    expect(h.proxy.upstreamText).toMatch(/range: bytes=[1-9]\d*-/i);
    expectTruth('three.bin', data);
  });

  it('keeps fetching its first credentials after a failed attempt at start, so a file then installs without another fetch', async () => {
    h = await startAgentHarness();
    const provider = await startTcpProxy(h.iot.credentialsProvider.port);
    try {
      provider.refuse(true); // the provider overloaded at start: the connection drops
      agent = await startAgent(h.agentOptions({ credentialEndpoint: h.iot.credentialsProvider.endpoint.replace(`:${h.iot.credentialsProvider.port}/`, `:${provider.port}/`) }));
      await waitFor(() => provider.refused >= 1, 'the first fetch refused');
      provider.refuse(false);
      await agent.credentialsWarmed();
      const fetches = agent.credentialFetches;
      expect(fetches).toBeGreaterThanOrEqual(2);
      provider.refuse(true); // from now on no fetch could succeed
      await installFirst('w.txt', 'warm');
      expect(agent.credentialFetches).toBe(fetches);
    } finally {
      await provider.close();
    }
  });

  it('finishes a download across a broker restart, reconnects, re-gets the shadow and reports', async () => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions());
    await installFirst('f.bin', 'old');
    let connects = 0;
    agent.on('connected', () => connects++);
    const data = objectBytes(BIG, 6);
    const watch = watchFinalPath(join(h.dest, 'f.bin'), [sha256('old'), sha256(data)]);
    const desired = await h.put('f.bin', data);
    const held = h.proxy.holdAt(h.proxy.downstreamBytes + BIG / 2);
    h.setDesired(desired);
    await held;
    await h.restartIot();
    h.proxy.release();
    await waitFor(() => connects >= 1, 'reconnected');
    await waitFor(() => h.reported()?.hash === desired.hash, 'reported after reconnect');
    expect(h.document().delta).toBeUndefined();
    expectTruth('f.bin', data);
    await watch.stop();
  });

  it('resumes with a Range request when the S3 connection is cut mid-download (bytes counted at the proxy)', async () => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions());
    await installFirst('r.bin', 'old');
    const data = objectBytes(BIG, 9);
    const watch = watchFinalPath(join(h.dest, 'r.bin'), [sha256('old'), sha256(data)]);
    const desired = await h.put('r.bin', data);
    const start = h.proxy.downstreamBytes;
    const held = h.proxy.holdAt(start + Math.floor(BIG * 0.6));
    const read = received(agent, Math.floor(BIG * 0.6) - 4096); // all that passed the proxy, but the response head
    h.setDesired(desired);
    await held;
    await read;
    h.proxy.cutAll();
    h.proxy.release();
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed after the cut');
    const range = /range: bytes=(\d+)-/i.exec(h.proxy.upstreamText);
    expect(Number(range?.[1])).toBeGreaterThan(BIG / 2);
    // A restart from zero would have moved at least 1.6 × the object.
    expect(h.proxy.downstreamBytes - start).toBeLessThan(BIG + 16 * 1024);
    expectTruth('r.bin', data);
    await watch.stop();
  });

  it('cancels a download when a newer upload arrives mid-way and installs only the newer file', async () => {
    h = await startAgentHarness();
    const progress: number[] = [];
    agent = await startAgent(h.agentOptions());
    await installFirst('n.bin', 'old');
    agent.on('progress', (p) => progress.push(p.bytes));
    const stale = objectBytes(BIG, 10);
    const newer = objectBytes(BIG / 4, 11);
    const watch = watchFinalPath(join(h.dest, 'n.bin'), [sha256('old'), sha256(newer)]);
    const staleDesired = await h.put('n.bin', stale);
    const held = h.proxy.holdAt(h.proxy.downstreamBytes + BIG / 2);
    h.setDesired(staleDesired);
    await held;
    const newerDesired = await h.put('n.bin', newer);
    const gets = h.s3Gets();
    h.setDesired(newerDesired);
    // Release only once the agent has seen the newer value: its GET is sent after the stale job is
    // cancelled. Released sooner, the stale download may end, verified, before the delta arrives,
    // and installing it is then right (the agent cannot know yet).
    await waitFor(() => h.s3Gets() > gets, 'the newer download requested');
    h.proxy.release();
    await waitFor(() => h.reported()?.hash === newerDesired.hash, 'newer installed');
    expect(progress.length).toBeGreaterThan(0);
    expectTruth('n.bin', newer);
    await watch.stop();
  });
  it('re-gets the shadow after reconnecting, so a desired value written while it was offline is not missed', async () => {
    h = await startAgentHarness();
    agent = await startAgent(h.agentOptions());
    await installFirst('m.txt', 'before');
    // The broker restarts, and the agent cannot reach it again until the proxy lets it.
    const offline = nextEvent(agent, 'offline');
    h.mqttProxy.refuse(true);
    await h.restartIot();
    await offline;
    const missed = await h.put('m.txt', 'written while offline');
    h.setDesired(missed); // the delta goes to nobody: no device can be connected
    expect(agent.online).toBe(false);
    const reconnected = nextEvent(agent, 'connected');
    h.mqttProxy.refuse(false);
    await reconnected;
    await waitFor(() => h.reported()?.hash === missed.hash, 'installed after the reconnect');
    expectTruth('m.txt', 'written while offline');
  });

  it('drops cached credentials when S3 answers 403 and fetches new ones for the retry', async () => {
    h = await startAgentHarness({ iot: { credentials: { accessKeyId: 'REVOKED', secretAccessKey: 'REVOKED' } } });
    agent = await startAgent(h.agentOptions());
    const desired = await h.put('d.txt', 'denied');
    h.setDesired(desired);
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined)?.code === 'S3_ACCESS_DENIED', 'access denied reported');
    await waitFor(() => agent!.credentialFetches >= 3, 'a fresh fetch per retry');
    expect(h.s3Gets()).toBeGreaterThanOrEqual(2);
    expect(existsSync(join(h.dest, 'd.txt'))).toBe(false);
  });
});
