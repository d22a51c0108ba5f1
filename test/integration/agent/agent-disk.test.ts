/**
 * The agent on a device whose SD card turned read-only or filled up. The faults come from an
 * injected file-system layer (test/helpers/faulty-fs.ts): these tests run as root, which writes
 * through permission bits, and a tmpfs cannot be mounted without CAP_SYS_ADMIN.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import { startAgentHarness, untilIdle, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { faultyFs } from '../../helpers/faulty-fs';
import { objectBytes, sha256 } from '../../helpers/agent-fixtures';

type ErrorEntry = { code?: string; message?: string } | undefined;

describe('device agent on a read-only or full file system', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;

  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await h?.close();
  });

  const errorOf = () => h.reported()?.error as ErrorEntry;
  const workFiles = () => readdirSync(h.dest).filter((n) => n.startsWith('.shadowplug-'));

  it.each([
    ['state-dir', 'STATE_DIR_NOT_WRITABLE', '--state-dir'],
    ['dest', 'DEST_NOT_WRITABLE', '--dest'],
  ])('refuses to start when --%s is not writable, with %s naming the directory', async (which, code, flag) => {
    h = await startAgentHarness();
    const fs = faultyFs();
    const dir = which === 'dest' ? h.dest : join(h.dir, 'state');
    fs.refuseWrites((p) => p.startsWith(dir + '/'));
    const started = startAgent(h.agentOptions({ fs }));
    await expect(started).rejects.toMatchObject({ code, retryable: false });
    await expect(started).rejects.toThrow(`${flag} ${dir} is not writable: EROFS`);
  });

  it('installs once and reports STATE_NOT_WRITABLE when the state cannot be written, then records it without downloading again', async () => {
    h = await startAgentHarness();
    const fs = faultyFs();
    agent = await startAgent(h.agentOptions({ fs }));
    const stateDir = join(h.dir, 'state');
    fs.refuseWrites((p) => p.startsWith(stateDir + '/')); // the state's file system turns read-only after the start
    const desired = await h.put('app.bin', objectBytes(64 * 1024, 3));
    h.setDesired(desired);
    await waitFor(() => errorOf()?.code === 'STATE_NOT_WRITABLE', 'STATE_NOT_WRITABLE reported');
    expect(errorOf()?.message).toContain('EROFS');
    expect(sha256(readFileSync(join(h.dest, 'app.bin')))).toBe(desired.hash);
    // Several rounds of the state-write retry, and still the one download.
    const writes = h.reports().length;
    await waitFor(() => fs.refusals >= 3, 'three refused state writes');
    expect(h.s3Gets()).toBe(1);
    expect(h.reports().length).toBe(writes); // reported once, not on every retry

    fs.refuseWrites(undefined);
    await waitFor(() => h.reported()?.hash === desired.hash && errorOf() === undefined, 'installed reported once the state is written');
    expect(h.s3Gets()).toBe(1);
    expect(existsSync(join(stateDir, 'state.json'))).toBe(true);
  });

  it('checks the free space before the first byte: DISK_FULL with the bytes needed and free, no request, no partial file, and a download once there is room', async () => {
    h = await startAgentHarness();
    const fs = faultyFs();
    agent = await startAgent(h.agentOptions({ fs }));
    const body = objectBytes(256 * 1024, 4);
    const desired = await h.put('big.bin', body);
    fs.setFree(64 * 1024);
    h.setDesired(desired);
    await waitFor(() => errorOf()?.code === 'DISK_FULL', 'DISK_FULL reported');
    expect(errorOf()?.message).toBe(`disk full: ${h.dest} needs ${body.length} bytes, ${64 * 1024} bytes free`);
    // The free space is looked at again on a backoff; nothing is downloaded meanwhile.
    const seen = fs.statfsCalls;
    await waitFor(() => fs.statfsCalls >= seen + 3, 'free space checked again');
    expect(h.s3Gets()).toBe(0);
    expect(workFiles()).toEqual([]);

    fs.setFree(undefined);
    await waitFor(() => h.reported()?.hash === desired.hash, 'installed once there is room');
    expect(h.s3Gets()).toBe(1);
    expect(workFiles()).toEqual([]);
  });

  it('maps ENOSPC while writing to DISK_FULL (not S3_CONNECTION), removes the partial file, and retries only when space was freed', async () => {
    h = await startAgentHarness();
    const fs = faultyFs();
    agent = await startAgent(h.agentOptions({ fs }));
    const body = objectBytes(3 * 1024 * 1024, 5);
    const { url, hash } = await h.put('mid.bin', body); // no size in desired: only S3's answer tells it
    // The disk fills up (someone else wrote) after 1 MiB of the download.
    fs.failWriteAt((p) => p.endsWith('.part'), 1024 * 1024, 'ENOSPC', () => fs.setFree(0));
    h.setDesired({ url, hash });
    await waitFor(() => errorOf()?.code === 'DISK_FULL', 'DISK_FULL reported');
    expect(h.reports().some((r) => (r as { error?: ErrorEntry } | null)?.error?.code === 'S3_CONNECTION')).toBe(false);
    expect(errorOf()?.message).toBe(`disk full: ${h.dest} needs ${body.length} bytes, 0 bytes free`);
    const seen = fs.statfsCalls;
    await waitFor(() => fs.statfsCalls >= seen + 3, 'free space checked again');
    expect(h.s3Gets()).toBe(1);
    expect(workFiles()).toEqual([]);

    fs.setFree(undefined);
    await waitFor(() => h.reported()?.hash === hash, 'installed once space was freed');
    expect(h.s3Gets()).toBe(2);
    await untilIdle(agent, h.document().version);
    expect(workFiles()).toEqual([]);
  });
});
