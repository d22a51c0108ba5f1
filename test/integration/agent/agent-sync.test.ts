import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, syncOnce, type Agent } from '../../../agent/agent';
import { devicePolicy, shadowScope } from '../../../core/iot-policy/device-policy';
import { BUCKET, nextSettled, startAgentHarness, untilIdle, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { objectBytes, sha256 } from '../../helpers/agent-fixtures';

describe('device agent against the IoT Core stand-in and local S3 (mutual TLS)', () => {
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

  const installedHash = () => h.reported()?.hash;

  it('installs the file already desired when it starts, and reports desired + installedAt + path so the delta clears', async () => {
    const data = objectBytes(300_000, 1);
    const desired = await h.put('releases/app.bin', data);
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'reported hash');

    const path = join(h.dest, 'app.bin');
    expect(readFileSync(path).equals(data)).toBe(true);
    const doc = h.document();
    expect(doc.reported?.s3).toMatchObject({ ...desired, path });
    expect(Date.parse((doc.reported?.s3 as { installedAt: string }).installedAt)).not.toBeNaN();
    expect(doc.delta).toBeUndefined();
    expect(readdirSync(h.dest)).toEqual(['app.bin']);
  });

  it('installs a file whose name is 255 bytes long (its working files are named independently of it)', async () => {
    const name = `${'l'.repeat(251)}.bin`;
    const desired = await h.put(`releases/${name}`, 'long name');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'reported hash');
    expect(readFileSync(join(h.dest, name), 'utf8')).toBe('long name');
    expect(readdirSync(h.dest)).toEqual([name]);
  });

  it('reports a key whose file name is over 255 bytes once, as UNSAFE_KEY, and does not retry it', async () => {
    const desired = await h.put(`releases/${'x'.repeat(256)}`, 'too long');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined)?.code === 'UNSAFE_KEY', 'error reported');
    // Idle having seen its own error report: nothing retried, nothing scheduled to be.
    const { version } = await untilIdle(agent, h.document().version);
    expect((h.reported()!.error as { message: string }).message).toMatch(/longer than 255 bytes/);
    expect(h.reports().filter((r) => (r as { error?: unknown } | null)?.error !== undefined)).toHaveLength(1);
    expect(h.s3Gets()).toBe(0);
    expect(h.document().version).toBe(version);
    expect(readdirSync(h.dest)).toEqual([]);
  });

  it('reports a version that no longer exists once, as S3_OBJECT_MISSING, and does not retry it', async () => {
    const desired = await h.put('gone.bin', 'soon gone');
    const head = await h.admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'gone.bin' }));
    await h.admin.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'gone.bin', VersionId: head.VersionId }));
    h.setDesired({ ...desired, versionId: head.VersionId });
    agent = await startAgent(h.agentOptions());
    await waitFor(() => (h.reported()?.error as { code?: string } | undefined)?.code === 'S3_OBJECT_MISSING', 'error reported');
    // Idle: no download job left, not even one waiting out a retry backoff.
    const { version } = await untilIdle(agent, h.document().version);
    expect(h.s3Gets()).toBe(1);
    expect(h.reports().filter((r) => (r as { error?: unknown } | null)?.error !== undefined)).toHaveLength(1);
    expect(h.document().version).toBe(version);
    expect(readdirSync(h.dest)).toEqual([]);
  });

  it('follows a delta while running and runs --on-update with the path and hash in its environment', async () => {
    const log = join(h.dir, 'hook.log');
    agent = await startAgent(h.agentOptions({ onUpdate: `echo "$SHADOWPLUG_PATH $SHADOWPLUG_HASH $SHADOWPLUG_URL" >> '${log}'` }));
    await waitFor(() => agent!.online, 'agent online');
    const first = await h.put('a.txt', 'first');
    h.setDesired(first);
    await waitFor(() => installedHash() === first.hash, 'first install reported');
    const second = await h.put('b.txt', 'second');
    h.setDesired(second);
    await waitFor(() => installedHash() === second.hash, 'second install reported');

    expect(readFileSync(join(h.dest, 'b.txt'), 'utf8')).toBe('second');
    expect(h.document().delta).toBeUndefined();
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length >= 3, 'two hook runs');
    expect(readFileSync(log, 'utf8')).toBe(
      `${join(h.dest, 'a.txt')} ${first.hash} ${first.url}\n${join(h.dest, 'b.txt')} ${second.hash} ${second.url}\n`,
    );
  });

  it('rebuilds the whole desired value from a delta that carries only the hash', async () => {
    agent = await startAgent(h.agentOptions());
    const v1 = await h.put('config.json', '{"v":1}');
    h.setDesired(v1);
    await waitFor(() => installedHash() === v1.hash, 'v1 reported');
    // Same key, new bytes: only `hash` differs from reported, so the delta holds only `hash`.
    const v2 = await h.put('config.json', '{"v":2}');
    h.setDesired({ hash: v2.hash });
    await waitFor(() => installedHash() === v2.hash, 'v2 reported');
    expect(readFileSync(join(h.dest, 'config.json'), 'utf8')).toBe('{"v":2}');
    expect(h.reported()).toMatchObject({ url: v1.url, hash: v2.hash, path: join(h.dest, 'config.json') });
    expect(h.document().delta).toBeUndefined();
  });

  it('does not download again after a restart when the installed file is verified and in place', async () => {
    const desired = await h.put('keep.bin', objectBytes(100_000, 3));
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'installed');
    await agent.close();
    const gets = h.s3Gets();
    const reported = h.reported();

    agent = await startAgent(h.agentOptions());
    // It settles once it has read the shadow and checked the file; a needless download would come first.
    expect(await nextSettled(agent)).toMatchObject({ status: 'in-sync' });
    expect(h.s3Gets()).toBe(gets);
    // Nothing new to report about the file either (the restarted agent reports only its own start, in reported.agent).
    expect(h.reported()).toEqual(reported);
  });

  it('downloads again when the installed file was removed from disk', async () => {
    const desired = await h.put('gone.bin', 'bytes');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'installed');
    await agent.close();
    const { rmSync } = await import('node:fs');
    rmSync(join(h.dest, 'gone.bin'));
    agent = await startAgent(h.agentOptions());
    await waitFor(() => existsSync(join(h.dest, 'gone.bin')), 'reinstalled');
    expect(sha256(readFileSync(join(h.dest, 'gone.bin')))).toBe(desired.hash);
  });

  it('keeps the installed file when the desired value is cleared, and keeps reporting it', async () => {
    const desired = await h.put('x.bin', 'x');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'installed');
    await untilIdle(agent, h.document().version);
    const reports = h.reports().length;
    h.setDesired(null);
    const cleared = h.document().version;
    // Idle having seen the cleared value: whatever it was going to do about it is done.
    expect(await untilIdle(agent, cleared)).toEqual({ version: cleared });
    expect(readFileSync(join(h.dest, 'x.bin'), 'utf8')).toBe('x');
    expect(h.reported()).toMatchObject({ hash: desired.hash });
    expect(h.reports()).toHaveLength(reports); // reported is already true: nothing written
  });

  it('leaves a file it did not install alone when the key names it but the hash differs, until verified bytes replace it', async () => {
    writeFileSync(join(h.dest, 'local.txt'), 'hand-made');
    const desired = await h.put('local.txt', 'from the cloud');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => installedHash() === desired.hash, 'installed');
    expect(readFileSync(join(h.dest, 'local.txt'), 'utf8')).toBe('from the cloud');
  });
  it('follows a named shadow and another property name when told to, within the policy the stack deploys for it', async () => {
    await h.close();
    h = await startAgentHarness({ iot: { devicePolicy: devicePolicy({ shadows: [shadowScope('files')] }) } });
    agent = await startAgent(h.agentOptions({ shadowName: 'files', shadowProperty: 'firmware' }));
    const fw = await h.put('fw/image.bin', 'firmware v7');
    const r = h.iot.shadows.update(h.thing, { state: { desired: { firmware: fw } } }, 'files');
    expect(r.ok).toBe(true);
    await waitFor(() => (h.iot.shadows.get(h.thing, 'files') as { state?: { reported?: { firmware?: { hash?: string } } } } | undefined)?.state?.reported?.firmware?.hash === fw.hash, 'named shadow reported');
    expect(readFileSync(join(h.dest, 'image.bin'), 'utf8')).toBe('firmware v7');
    expect(h.iot.shadows.get(h.thing)).toBeUndefined(); // the classic shadow was never touched
  });
  it('syncOnce answers 0 when in sync, and 1 when the broker cannot be reached in time; an agent with no broker closes cleanly', async () => {
    const desired = await h.put('once.bin', 'once');
    h.setDesired(desired);
    expect(await syncOnce(h.agentOptions())).toBe(0);
    expect(h.reported()?.hash).toBe(desired.hash);

    const { createServer } = await import('node:net');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await syncOnce({ ...h.agentOptions({ port }), shadowTimeoutMs: 500 })).toBe(1);
    // A broker that closes every connection at once: the agent keeps trying and is never online.
    h.mqttProxy.refuse(true);
    agent = await startAgent(h.agentOptions());
    let connected = false;
    agent.on('connected', () => (connected = true));
    await waitFor(() => h.mqttProxy.refused >= 2, 'a second connection attempt');
    expect(connected).toBe(false);
    expect(agent.online).toBe(false);
    expect(agent.idle).toBe(false);
    await agent.close();
    agent = undefined;
  });
});
