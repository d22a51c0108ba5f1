/**
 * `shadowplug click`: the local mode runs the real handler against a simulated plug; the MQTT
 * mode publishes like a real IoT button to the sandbox's IoT Core stand-in (mutual TLS, button
 * policy, the topic rule), whose rule runs the real handler — a click end to end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runClick, type ClickCliOptions } from '../../../bin/commands/click';
import { buttonFunctionEnvironment, parseButtonConfig } from '../../../core/button/config';
import { createHandler } from '../../../lambda/button-click';
import { silentLogger } from '../../../core/logger';
import { startIotCore, type IotCore } from '../../../sandbox/iot-core';
import { startSimulatedPlug, type SimulatedPlug } from '../../../sandbox/simulated-plug';
import { closedPort, startFaultPlug } from '../../helpers/fault-plug';
import { startSimulatedDevice } from '../../../sandbox/plugs/simulated-devices';

const SERIAL = 'G030CLI000000001';

async function run(options: Partial<ClickCliOptions>, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runClick({ serial: SERIAL, type: 'SINGLE', ...options }, { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env });
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

let plug: SimulatedPlug;
beforeAll(async () => {
  plug = await startSimulatedPlug({ alias: 'CLI lamp' });
});
afterAll(async () => {
  await plug.close();
});

describe('shadowplug click (local)', () => {
  it('switches a Tapo plug on KLAP with the account from SHADOWPLUG_TPLINK_USERNAME/PASSWORD', async () => {
    const account = { username: 'cli@example.com', password: 'cli password 7' };
    const p110 = await startSimulatedDevice('p110-klap', { credentials: account });
    try {
      const r = await run({ plug: [`127.0.0.1:${p110.port}`], json: true }, { SHADOWPLUG_TPLINK_USERNAME: account.username, SHADOWPLUG_TPLINK_PASSWORD: account.password });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).clicks[0].targets[0]).toMatchObject({ alias: 'Kettle', status: 'switched' });
      expect(p110.states()).toEqual([true]);
      expect(r.stdout + r.stderr).not.toContain(account.password);
    } finally {
      await p110.close();
    }
  });

  it('runs the handler with a synthesised classic click and prints the outcome as JSON', async () => {
    const before = plug.state().relayState;
    const r = await run({ plug: [`127.0.0.1:${plug.port}`], json: true, type: 'double' });
    expect(r.code).toBe(0);
    const outcome = JSON.parse(r.stdout);
    expect(outcome).toMatchObject({ status: 'done', clicks: [{ serial: SERIAL, clickType: 'DOUBLE', source: 'iot-button' }] });
    expect(outcome.clicks[0].targets[0]).toMatchObject({ alias: 'CLI lamp', before: before === 1, after: before !== 1 });
    expect(plug.state().relayState).toBe(before === 1 ? 0 : 1);
  });

  it('prints a readable outcome, with the battery warning', async () => {
    const r = await run({ plug: [`127.0.0.1:${plug.port}`], battery: '1100' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^shadowplug: \[battery low\] CLI lamp (on|off) \(SINGLE click\)/);
    expect(r.stdout).toContain(`- CLI lamp (127.0.0.1:${plug.port}): `);
  });

  it('takes the targets from the BUTTON_* environment when no --plug is given', async () => {
    const before = plug.state().relayState;
    const r = await run({ json: true }, { SHADOWPLUG_DEFAULT_TARGETS: `127.0.0.1:${plug.port}`, SHADOWPLUG_CLICK_ACTIONS: 'SINGLE=off' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).clicks[0].action).toBe('off');
    expect(plug.state().relayState).toBe(0);
    expect(before === 1 ? 'switched' : 'unchanged').toBe(JSON.parse(r.stdout).clicks[0].targets[0].status);
  });

  it('reads --plug as the sandbox does: id=host:port#outlet is a configured plug the click names by id', async () => {
    const strip = await startSimulatedPlug({ model: 'hs300' });
    try {
      const outlets = strip.state().children!.map((c) => c.state);
      outlets[1] = 1;
      const r = await run({ plug: [`desk=127.0.0.1:${strip.port}#1`, `127.0.0.1:${plug.port}`], json: true, type: 'LONG' }, { SHADOWPLUG_CLICK_ACTIONS: 'LONG=on' });
      expect(r.code, r.stderr).toBe(0);
      const [desk, bare] = JSON.parse(r.stdout).clicks[0].targets;
      expect(desk).toMatchObject({ plug: 'desk', target: `127.0.0.1:${strip.port}#1`, after: true });
      expect(bare).toMatchObject({ target: `127.0.0.1:${plug.port}`, after: true });
      expect(bare.plug).toBeUndefined();
      expect(strip.state().children!.map((c) => c.state)).toEqual(outlets);
    } finally {
      await strip.close();
    }
  });

  it('exits 1 naming host:port when the plug is unreachable', async () => {
    const port = await closedPort();
    const r = await run({ plug: [`127.0.0.1:${port}`] });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`127.0.0.1:${port}: FAILED`);
    expect(r.stdout).toContain('connection refused');
  });

  it('exits 2 with a clear message on bad input', async () => {
    expect(await run({})).toMatchObject({ code: 2, stderr: expect.stringContaining('which plug? Give --plug host:port') });
    expect(await run({ plug: ['plug:99999'] })).toMatchObject({ code: 2, stderr: expect.stringContaining('--plug "plug:99999": invalid plug address') });
    expect(await run({ plug: ['lamp=hs100'] })).toMatchObject({ code: 2, stderr: expect.stringContaining('--plug "lamp=hs100": hs100 is a simulated plug; click switches a real one') });
    expect(await run({ plug: ['la mp=127.0.0.1'] })).toMatchObject({ code: 2, stderr: expect.stringContaining('--plug "la mp=127.0.0.1": id "la mp" must match') });
    expect(await run({ plug: ['p'], type: 'TRIPLE' })).toMatchObject({ code: 2, stderr: expect.stringContaining('--type must be') });
    expect(await run({ plug: ['p'], battery: 'low' })).toMatchObject({ code: 2, stderr: expect.stringContaining('--battery must be millivolts') });
    expect(await run({ endpoint: '127.0.0.1:1' })).toMatchObject({ code: 2, stderr: expect.stringContaining('--endpoint needs --cert, --key, --ca-file') });
    expect(await run({ endpoint: 'broker.lan:0', cert: 'c', key: 'k', caFile: 'ca' })).toMatchObject({ code: 2, stderr: expect.stringContaining('--endpoint: "broker.lan:0": the port must be 1..65535') });
  });

  it('works as a child process, exactly as a user types it', async () => {
    const before = plug.state().relayState;
    const child = spawn(process.execPath, ['bin/shadowplug.mjs', 'click', '--plug', `127.0.0.1:${plug.port}`, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).status).toBe('done');
    expect(plug.state().relayState).toBe(before === 1 ? 0 : 1);
  });
});

describe('shadowplug click --endpoint (MQTT/TLS, like a real button)', () => {
  let dir: string;
  let iot: IotCore;
  const outcomes: unknown[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shadowplug-click-'));
    const config = parseButtonConfig(buttonFunctionEnvironment({ defaultTargets: `127.0.0.1:${plug.port}`, plugMode: 'direct' }));
    const handler = createHandler({ config, logger: silentLogger });
    iot = await startIotCore({ dir, buttons: [SERIAL], onButton: async (event) => outcomes.push(await handler(event)) });
  });
  afterAll(async () => {
    await iot?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    outcomes.length = 0;
  });

  const creds = () => {
    const b = iot.issueButton(SERIAL);
    return { endpoint: `${iot.mqtt.host}:${iot.mqtt.port}`, cert: b.certPath, key: b.keyPath, caFile: iot.ca.certPath };
  };

  it('publishes the classic payload on iotbutton/<serial>; the rule runs the handler and the plug switches', async () => {
    const before = plug.state().relayState;
    const r = await run({ ...creds(), json: true, battery: '1650' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      published: true,
      topic: `iotbutton/${SERIAL}`,
      clientId: `iotbutton_${SERIAL}`,
      payload: { serialNumber: SERIAL, clickType: 'SINGLE', batteryVoltage: '1650mV' },
    });
    await iot.buttonRuleIdle();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ status: 'done', clicks: [{ serial: SERIAL, source: 'iot-button', battery: { batteryVoltageMv: 1650 } }] });
    expect(plug.state().relayState).toBe(before === 1 ? 0 : 1);
  });

  it('exits 1 with a clear message when the policy refuses the topic (another serial)', async () => {
    const r = await run({ ...creds(), serial: 'SOMEONE-ELSE', clientId: `iotbutton_${SERIAL}`, timeout: '3000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/publish to 127\.0\.0\.1:\d+: the broker closed the connection before acknowledging the publish on iotbutton\/SOMEONE-ELSE/);
    await iot.buttonRuleIdle();
    expect(outcomes).toEqual([]);
  });

  it('exits 1 when the client id does not match the certificate', async () => {
    const r = await run({ ...creds(), clientId: 'not-the-button', timeout: '3000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shadowplug click: publish to 127\.0\.0\.1:\d+: connection failed: Connection refused: Not authorized$/);
  });

  it('exits 1 when the broker certificate is not signed by the given CA', async () => {
    const c = creds();
    const r = await run({ ...c, caFile: c.cert, timeout: '3000' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shadowplug click: publish to 127\.0\.0\.1:\d+: connection failed: .*certificate/);
  });

  it('gives up within --timeout on an endpoint that never answers', async () => {
    const silent = await startFaultPlug({ mode: 'silent' });
    try {
      // The message names the --timeout that fired; the test's own timeout bounds the wait (no stopwatch).
      const r = await run({ ...creds(), endpoint: silent.address, timeout: '500' });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`shadowplug click: publish to ${silent.address}: no connection within 500 ms`);
      expect(silent.connections).toBe(1); // it reached the endpoint and waited there, rather than failing to dial
      await silent.allClosed(); // and hung up when it gave up
    } finally {
      await silent.close();
    }
  }, 10_000);

  it('exits 1 naming the file when a certificate path is wrong', async () => {
    const r = await run({ ...creds(), cert: join(dir, 'missing.pem') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--cert ${join(dir, 'missing.pem')}: ENOENT`);
  });
});
