/**
 * Starting, stopping and restarting a sandbox, and pointing it at a plug of your own.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../../sandbox/sandbox';
import { startSimulatedPlug, type SimulatedPlug } from '../../sandbox/simulated-plug';
import { SandboxDirError } from '../../sandbox/errors';
import type { SandboxEvent } from '../../sandbox/event-log';
import { acceptsMqttWithoutCertificate } from '../helpers/iot-core-clients';
import { listeningPorts, portIsClosed, publishClick, sandboxPorts } from '../helpers/sandbox-harness';

describe('sandbox lifecycle', () => {
  // Each test has a directory of its own, so they hold in any order.
  const dirs: string[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-life-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('refuses a second sandbox on a directory whose sandbox is running, naming its pid', async () => {
    const dir = freshDir();
    const first = await startSandbox({ dir });
    try {
      const err = await startSandbox({ dir }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SANDBOX_ALREADY_RUNNING', retryable: false });
      expect((err as Error).message).toContain(`pid ${process.pid}`);
    } finally {
      await first.close();
    }
    expect(existsSync(join(dir, 'sandbox.json'))).toBe(false);
  });

  it('restarts on the same directory with its certificates, shadows and installed files, without downloading again', async () => {
    const dir = freshDir();
    const first = await startSandbox({ dir });
    const ca = first.info.ca;
    try {
      const { sha256 } = await first.upload('kept.txt', 'kept across restarts');
      await first.waitForReported('shadowplug-device-1', sha256);
    } finally {
      await first.close();
    }
    const caWritten = statSync(ca).mtimeMs;
    const again = await startSandbox({ dir });
    const events: SandboxEvent[] = [];
    again.events.on('event', (e: SandboxEvent) => events.push(e));
    try {
      // The certificates are reused, not generated again.
      expect(again.info.ca).toBe(ca);
      expect(statSync(ca).mtimeMs).toBe(caWritten);
      const shadow = (await again.shadow('shadowplug-device-1')) as { state: { reported: { s3: { url: string } } } };
      expect(shadow.state.reported.s3.url).toBe('s3://shadowplug/kept.txt');
      expect(readFileSync(join(again.info.things[0]!.dest, 'kept.txt'), 'utf8')).toBe('kept across restarts');
      // The agent has settled on what it already has: a fresh upload is the first thing it fetches.
      const { sha256 } = await again.upload('next.txt', 'next');
      await again.waitForReported('shadowplug-device-1', sha256);
      expect(events.filter((e) => e.type === 'installed').map((e) => (e as { path: string }).path)).toEqual([
        join(again.info.things[0]!.dest, 'next.txt'),
      ]);
    } finally {
      await again.close();
    }
  });

  it('listens nowhere that lets MQTT in without a client certificate', async () => {
    const before = listeningPorts() ?? [];
    const sandbox = await startSandbox({ dir: freshDir() });
    try {
      expect(Object.keys(sandbox.info.mqtt).sort()).toEqual(['host', 'port']);
      const ports = (listeningPorts() ?? sandboxPorts(sandbox.info)).filter((p) => !before.includes(p));
      expect(ports).toEqual(expect.arrayContaining(sandboxPorts(sandbox.info)));
      for (const port of ports) expect(await acceptsMqttWithoutCertificate(port), `port ${port}`).toBe(false);
      // ...and the narration still works without one: desired and reported are observed in process.
      const { sha256 } = await sandbox.upload('observed.txt', 'observed');
      await sandbox.waitForReported('shadowplug-device-1', sha256);
    } finally {
      await sandbox.close();
    }
  });

  it('fails fast with SandboxDirError naming a directory it cannot create or write, leaving nothing listening', async () => {
    const work = mkdtempSync(join(tmpdir(), 'sandbox-baddir-'));
    const before = listeningPorts();
    try {
      const file = join(work, 'file');
      writeFileSync(file, 'a regular file');
      for (const bad of [join(file, 'sandbox'), file]) {
        const err = await startSandbox({ dir: bad }).catch((e: unknown) => e);
        expect(err, bad).toBeInstanceOf(SandboxDirError);
        expect((err as SandboxDirError).dir).toBe(bad);
        expect((err as Error).message).toContain(bad);
      }
      if (before) expect(listeningPorts()).toEqual(before);
      // The failed starts claimed nothing: a good directory next to them starts.
      const good = await startSandbox({ dir: join(work, 'good'), agents: false });
      await good.close();
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('rejects options that cannot work, naming them', async () => {
    await expect(startSandbox({ dir: freshDir(), devices: 0 })).rejects.toThrow(/devices must be a whole number from 1 to 1000, got 0/);
    await expect(startSandbox({ dir: freshDir(), plug: 'not a host:99999' })).rejects.toMatchObject({ code: 'SANDBOX_CONFIG' });
    await expect(startSandbox({ dir: freshDir(), plug: '127.0.0.1:9999', strip: true })).rejects.toThrow(/--strip/);
    await expect(startSandbox({ dir: freshDir(), clickActions: 'SINGLE=explode' })).rejects.toThrow(/unknown click action "explode"/);
    await expect(startSandbox({ dir: freshDir(), buttonSerial: 'G030 SPACE' })).rejects.toThrow(/--button-serial: "G030 SPACE"/);
  });
});

describe('sandbox --plug host:port', () => {
  let plug: SimulatedPlug;
  let dir: string;
  beforeAll(async () => {
    // Stands in for a plug on the LAN: a separate device the sandbox knows only by address.
    plug = await startSimulatedPlug({ alias: 'my own plug' });
    dir = mkdtempSync(join(tmpdir(), 'sandbox-realplug-'));
  });
  afterAll(async () => {
    await plug.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('switches that plug instead of a simulated one, reads it over TCP, and leaves it running on close', async () => {
    const sandbox = await startSandbox({ dir, plug: `127.0.0.1:${plug.port}` });
    try {
      expect(sandbox.info.plug).toEqual({ host: '127.0.0.1', port: plug.port, simulated: false });
      await publishClick(sandbox.info, 'SINGLE');
      const state = await sandbox.waitForPlug((s) => s.relayState === 1);
      expect(state.alias).toBe('my own plug');
      expect(plug.state().relayState).toBe(1);
    } finally {
      await sandbox.close();
    }
    for (const port of sandboxPorts(sandbox.info)) expect(await portIsClosed(port)).toBe(true);
    expect(await portIsClosed(plug.port)).toBe(false);
  });
});
