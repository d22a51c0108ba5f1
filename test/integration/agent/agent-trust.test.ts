import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions } from '../../../agent/agent';
import { BUCKET, startAgentHarness, untilIdle, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { sha256 } from '../../helpers/agent-fixtures';
import { makeKey, signDesired, type TestKey } from '../../helpers/release-keys';

describe('agent with --trusted-key: signed releases only, never older ones', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;
  let publisher: TestKey;
  let stranger: TestKey;

  beforeEach(async () => {
    h = await startAgentHarness();
    publisher = makeKey(h.dir, 'publisher');
    stranger = makeKey(h.dir, 'stranger');
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await h.close();
  });

  /** Upload to the versioned local S3; the desired value the object Lambda writes (unsigned). */
  async function upload(key: string, body: string) {
    const out = await h.admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(body) }));
    return { url: `s3://${BUCKET}/${key}`, hash: sha256(body), size: Buffer.byteLength(body), bucket: BUCKET, key, versionId: out.VersionId! };
  }

  const options = (over: Partial<AgentOptions> = {}) => h.agentOptions({ trustedKey: [publisher.publicPath], ...over });
  const errorCode = () => (h.reported()?.error as { code?: string } | undefined)?.code;
  const errorReports = () => h.reports().filter((r) => (r as { error?: unknown } | null)?.error !== undefined);

  /** Refused before any byte: reported once, idle (no retry scheduled), nothing fetched or installed. */
  async function expectRefused(code: string, message: RegExp) {
    await waitFor(() => errorCode() === code, `${code} reported`);
    const { version } = await untilIdle(agent!, h.document().version);
    expect((h.reported()!.error as { message: string }).message).toMatch(message);
    expect(errorReports()).toHaveLength(1);
    expect(h.s3Gets()).toBe(0);
    expect(h.document().version).toBe(version);
  }

  it('installs a release signed by a trusted key and reports it with its manifest', async () => {
    const desired = await signDesired(await upload('fw.bin', 'release one'), publisher, { release: 1 });
    h.setDesired(desired);
    agent = await startAgent(options());
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed');
    expect(readFileSync(join(h.dest, 'fw.bin'), 'utf8')).toBe('release one');
    expect(h.reported()).toMatchObject({ manifest: { release: 1, keyId: publisher.keyId }, signature: desired.signature });
  });

  it('refuses an unsigned value as RELEASE_UNSIGNED', async () => {
    h.setDesired(await upload('fw.bin', 'unsigned'));
    agent = await startAgent(options());
    await expectRefused('RELEASE_UNSIGNED', /no signed release manifest/);
    expect(readdirSync(h.dest)).toEqual([]);
  });

  it('refuses a release signed by a key it does not trust as RELEASE_UNKNOWN_KEY', async () => {
    h.setDesired(await signDesired(await upload('fw.bin', 'by a stranger'), stranger, { release: 1 }));
    agent = await startAgent(options());
    await expectRefused('RELEASE_UNKNOWN_KEY', new RegExp(stranger.keyId));
  });

  it('refuses a manifest changed after signing (release raised) as RELEASE_BAD_SIGNATURE', async () => {
    const desired = await signDesired(await upload('fw.bin', 'tampered'), publisher, { release: 1 });
    h.setDesired({ ...desired, manifest: { ...(desired.manifest as object), release: 99 } });
    agent = await startAgent(options());
    await expectRefused('RELEASE_BAD_SIGNATURE', /does not verify/);
  });

  it('refuses a signed manifest naming other bytes than the desired value as RELEASE_MISMATCH', async () => {
    const good = await signDesired(await upload('fw.bin', 'signed bytes'), publisher, { release: 1 });
    const other = await upload('fw.bin', 'other bytes, same key');
    // The shadow's writer points at the newer version but keeps the old signature.
    h.setDesired({ ...other, manifest: good.manifest, signature: good.signature });
    agent = await startAgent(options());
    await expectRefused('RELEASE_MISMATCH', /versionId/);
  });

  it('refuses an expired manifest as RELEASE_EXPIRED, allowing 5 minutes of clock skew', async () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const skewed = await signDesired(await upload('a.bin', 'just expired'), publisher, { release: 1, expires: new Date(now - 4 * 60_000) });
    h.setDesired(skewed);
    agent = await startAgent(options({ clock: () => now }));
    await waitFor(() => h.reported()?.hash === skewed.hash, 'installed within the skew');
    const expired = await signDesired(await upload('b.bin', 'long expired'), publisher, { release: 1, expires: new Date(now - 6 * 60_000) });
    const gets = h.s3Gets();
    h.setDesired(expired);
    await waitFor(() => errorCode() === 'RELEASE_EXPIRED', 'RELEASE_EXPIRED reported');
    await untilIdle(agent, h.document().version);
    expect(h.s3Gets()).toBe(gets);
    expect(readdirSync(h.dest)).toEqual(['a.bin']);
  });

  it('refuses a lower release after a restart, and the same release with other bytes, as RELEASE_ROLLBACK', async () => {
    const r1 = await signDesired(await upload('fw.bin', 'release one (known bad)'), publisher, { release: 1 });
    const r2 = await signDesired(await upload('fw.bin', 'release two'), publisher, { release: 2 });
    h.setDesired(r2);
    agent = await startAgent(options());
    await waitFor(() => h.reported()?.hash === r2.hash, 'release 2 installed');
    await agent.close();
    agent = undefined;
    // An attacker re-points desired at release 1 (validly signed, not expired) while the device is off.
    h.setDesired({ ...r1, sequencer: null, eventTime: null });
    const gets = h.s3Gets();
    agent = await startAgent(options());
    await waitFor(() => errorCode() === 'RELEASE_ROLLBACK', 'RELEASE_ROLLBACK reported');
    expect((h.reported()!.error as { message: string }).message).toMatch(/release 1 is not newer than release 2/);
    const sameNumber = await signDesired(await upload('fw.bin', 'release two, other bytes'), publisher, { release: 2 });
    h.setDesired(sameNumber);
    await waitFor(() => (h.reported()?.error as { message?: string } | undefined)?.message?.includes('same release number') === true, 'same-number refusal');
    await untilIdle(agent, h.document().version);
    expect(h.s3Gets()).toBe(gets);
    expect(readFileSync(join(h.dest, 'fw.bin'), 'utf8')).toBe('release two');
  });

  it('without trusted keys installs unsigned values as before', async () => {
    const desired = await upload('fw.bin', 'unsigned, no keys');
    h.setDesired(desired);
    agent = await startAgent(h.agentOptions());
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed');
  });
});
