/**
 * The quick start, exactly as the README tells a newcomer: `npx shadowplug sandbox --json`
 * (npx runs bin/shadowplug.mjs), then the click and upload commands it prints, each as its own
 * process, then Ctrl-C. Nothing is called in-process here: only the CLI and real sockets.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Plug } from '../../core/tplink/plug';
import { withPlug } from '../../core/tplink/connect';
import { clickArgs, READY_LINE, uploadArgs } from '../../sandbox/banner';
import type { SandboxInfo } from '../../sandbox/sandbox-info';
import { acceptsMqttWithoutCertificate } from '../helpers/iot-core-clients';
import { listeningPorts, portIsClosed, runCli, runCliToEnd, sandboxPorts, waitFor, type CliRun } from '../helpers/sandbox-harness';

describe('npx shadowplug sandbox (the CLI, as the README says)', () => {
  // Child processes on a busy CI machine: more room than the default 30 s per test.
  const work = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
  const dir = join(work, '.sandbox');
  let run: CliRun | undefined;
  afterAll(async () => {
    if (run && run.child.exitCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('starts, switches the plug on a click, installs an upload, and stops on SIGINT with exit 0 and no port left open', async () => {
    run = runCli(['sandbox', '--json', '--dir', dir]);
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const json = await run.waitForLine((l) => l.startsWith('{'));
    const info = JSON.parse(json) as SandboxInfo;
    expect(Object.keys(info)).toEqual(
      expect.arrayContaining(['mqtt', 'dataPlane', 'credentials', 's3', 'ca', 'things', 'button', 'plug', 'buttonTopic']),
    );
    expect(typeof info.dataPlane).toBe('string');
    expect(typeof info.ca).toBe('string');
    expect(info.things[0]).toEqual(expect.objectContaining({ name: 'shadowplug-device-1', cert: expect.any(String), key: expect.any(String), dest: expect.any(String) }));
    expect(JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8'))).toMatchObject({ mqtt: info.mqtt, pid: run.child.pid, signingKey: info.signingKey, trustedKeys: info.trustedKeys });
    // The publisher key beside the CA: uploads are signed with the private half, agents trust the public one.
    expect(info.signingKey).toBe(join(dir, 'iot', 'publisher.key.pem'));
    expect(info.trustedKeys).toEqual([join(dir, 'iot', 'publisher.pub.pem')]);
    expect(statSync(info.signingKey).mode & 0o777).toBe(0o600);

    // No way in without a client certificate: no plain MQTT listener is published, and none of
    // the ports the sandbox process listens on accepts an MQTT CONNECT over plain TCP or over TLS
    // without a certificate (the narration watches the broker in process, not over a socket).
    expect(Object.keys(info.mqtt).sort()).toEqual(['host', 'port']);
    expect(JSON.stringify(info)).not.toMatch(/plain/i);
    const ports = listeningPorts(run.child.pid!);
    if (ports) {
      expect(ports).toEqual(expect.arrayContaining(sandboxPorts(info)));
      const open = await Promise.all(ports.map(async (p) => ((await acceptsMqttWithoutCertificate(p)) ? p : undefined)));
      expect(open.filter((p) => p !== undefined), `listening: ${ports.join(', ')}`).toEqual([]);
    }

    // The README's click command, run from the same directory the sandbox was started in.
    const click = await runCliToEnd(clickArgs(info, work), { cwd: work });
    expect(click.code, click.stderr).toBe(0);
    const plug = new Plug({ host: info.plug.host, port: info.plug.port });
    try {
      await waitFor('the plug to be on', async () => ((await plug.status()).relayState === 1 ? true : undefined));
    } finally {
      await plug.close();
    }

    // The quick start's short form: finds the sandbox through .sandbox/sandbox.json.
    const again = await runCliToEnd(['sandbox', 'click', '--dir', dir], { cwd: work });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/published SINGLE click on iotbutton\/\S+ .*plug ON → OFF/);

    // The README's upload command.
    const file = join(work, 'firmware.bin');
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256));
    writeFileSync(file, bytes);
    const upload = await runCliToEnd(uploadArgs(info, work, 'firmware.bin'), { cwd: work });
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stdout).toContain(createHash('sha256').update(bytes).digest('hex'));
    expect(upload.stdout).toContain('as release 1');
    const installed = join(info.things[0]!.dest, 'firmware.bin');
    await waitFor('the device to install firmware.bin', () => (existsSync(installed) ? true : undefined), 20_000);
    expect(readFileSync(installed).equals(bytes)).toBe(true);
    // With --json, stdout stays two lines; the narration goes to stderr as JSON lines.
    const narration = await waitFor('the reported event on stderr', () => {
      const lines = run!.stderr().split('\n').filter((l) => l.startsWith('{'));
      const events = lines.map((l) => JSON.parse(l) as { event: string; thing?: string });
      return events.some((e) => e.event === 'reported' && e.thing === 'shadowplug-device-1') ? events : undefined;
    });
    expect(narration.map((e) => e.event)).toEqual(expect.arrayContaining(['click', 'plug', 'upload', 'hashed', 'desired', 'installed', 'reported']));
    expect(run.stdoutLines.filter((l) => l !== '')).toHaveLength(2);

    // Ctrl-C.
    // Ctrl-C ends it by itself with code 0 (a kill would show as a signal); the test's timeout bounds the wait.
    run.child.kill('SIGINT');
    const exit = await run.exited;
    expect(exit, run.stderr()).toEqual({ code: 0, signal: null });
    for (const port of sandboxPorts(info)) expect(await portIsClosed(port), `port ${port}`).toBe(true);
    expect(existsSync(join(dir, 'sandbox.json'))).toBe(false);
  }, 60_000);

  it('without --json prints the banner with paste-able commands, narrates each step, and stops on SIGTERM', async () => {
    // Same directory as above: certificates, shadows and the installed file are reused.
    run = runCli(['sandbox', '--dir', dir], { cwd: work });
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    await run.waitForLine((l) => l.startsWith('Events follow'));
    const banner = run.stdoutLines.join('\n');
    // Started as `--dir <work>/.sandbox` from <work>: that is the default, so no --dir to paste.
    expect(banner).toContain('npx shadowplug sandbox click\n');
    expect(banner).toMatch(/npx shadowplug click --endpoint 127\.0\.0\.1:\d+ --cert \.sandbox\/iot\/buttons\/\S+\.cert\.pem/);
    expect(banner).toContain('npx shadowplug sandbox upload firmware.bin\n');
    expect(banner).toMatch(/aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ s3 cp firmware\.bin s3:\/\/shadowplug\/firmware\.bin/);

    expect((await runCliToEnd(['sandbox', 'click', '--dir', dir], { cwd: work })).code).toBe(0);
    await run.waitForLine((l) => / plug +lamp: sandbox plug is ON$/.test(l));
    await run.waitForLine((l) => / click +SINGLE from \S+ handled in \d+ ms: toggle: sandbox plug OFF→ON$/.test(l));

    writeFileSync(join(work, 'notes.txt'), 'narrated');
    expect((await runCliToEnd(['sandbox', 'upload', 'notes.txt', '--dir', dir], { cwd: work })).code).toBe(0);
    for (const step of [/ upload +s3:\/\/shadowplug\/notes\.txt /, / lambda +s3:\/\/shadowplug\/notes\.txt sha256 [0-9a-f]{64}$/, / shadow +shadowplug-device-1 desired ← s3:\/\/shadowplug\/notes\.txt/, / device +shadowplug-device-1 verified sha256 /, / shadow +shadowplug-device-1 reported = desired/]) {
      await run.waitForLine((l) => step.test(l));
    }

    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.stdoutLines.at(-1)).toMatch(/sandbox stopped$/);
  }, 60_000);

  it('--plug (repeated) starts simulated plugs of several kinds, lists each in the ready line, and the KLAP/AES ones accept --tplink-username/--tplink-password', async () => {
    const plugsDir = join(work, 'plugs');
    run = runCli(['sandbox', '--json', '--dir', plugsDir, '--no-dashboard', '--plug', 'lamp=hs100', '--plug', 'kettle=p110-klap', '--plug', 'desk=hs300#1', '--tplink-username', 'owner@example.com', '--tplink-password', 'pw-9f3k-kettle'], { cwd: work });
    await run.waitForLine((l) => l.startsWith(READY_LINE), 30_000);
    const info = JSON.parse(await run.waitForLine((l) => l.startsWith('{'))) as SandboxInfo;
    expect(info.plugs).toEqual([
      expect.objectContaining({ id: 'lamp', kind: 'hs100', protocol: 'xor', family: 'iot', mode: 'relay', shadowName: 'plug-lamp', thing: 'shadowplug-device-1' }),
      expect.objectContaining({ id: 'kettle', kind: 'p110-klap', protocol: 'klap', family: 'smart', model: 'P110', shadowName: 'plug-kettle' }),
      expect.objectContaining({ id: 'desk', kind: 'hs300', protocol: 'xor', outlet: 1, shadowName: 'plug-desk' }),
    ]);
    expect(JSON.stringify(info)).not.toContain('pw-9f3k-kettle');
    const kettle = info.plugs![1]!;
    const status = await withPlug({ host: kettle.host, port: kettle.port }, { protocol: 'klap', family: 'smart', credentials: { username: 'owner@example.com', password: 'pw-9f3k-kettle' } }, async ({ device }) => device.status());
    expect(status).toMatchObject({ model: 'P110', relayState: 0 });
    run.child.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    for (const p of info.plugs!) expect(await portIsClosed(p.port)).toBe(true);
  }, 60_000);

  it('with a --dir that cannot be created exits 1 at once, naming the directory, with nothing left listening', async () => {
    const file = join(work, 'a-regular-file');
    writeFileSync(file, 'not a directory');
    const bad = join(file, 'sandbox');
    // "At once" is the test's own 15 s timeout, not a stopwatch.
    const r = await runCliToEnd(['sandbox', '--json', '--dir', bad], { cwd: work });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`Cannot use ${bad} as the sandbox directory`);
    expect(r.stdout).not.toContain(READY_LINE);
  }, 15_000);

  it('`sandbox upload` without a running sandbox says so and exits non-zero', async () => {
    const file = join(work, 'x.bin');
    writeFileSync(file, 'x');
    const r = await runCliToEnd(['sandbox', 'upload', file, '--dir', join(work, 'nothing-here')], { cwd: work });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No sandbox is running in .*nothing-here/);
  });
});
