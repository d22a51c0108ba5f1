/**
 * The deployed artefact: the handler bundled as the stack bundles it, loaded in a fresh Node
 * process the way Lambda loads it (AWS_LAMBDA_FUNCTION_NAME set, configuration in the environment).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buttonFunctionEnvironment } from '../../../core/button/config';
import { startSimulatedPlug, type SimulatedPlug } from '../../../sandbox/simulated-plug';
import { KASA_DEFAULT_CREDENTIALS } from '../../../core/tplink/credentials';
import { startSimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import { bundleHandler, bundleInputs, lazyFiles } from '../../helpers/button-bundle';

let dir: string;
let bundle: string;
const opened: SimulatedPlug[] = [];

/** Each test switches a plug of its own (one shared plug's state would depend on the test order). */
async function freshPlug(): Promise<SimulatedPlug> {
  const plug = await startSimulatedPlug();
  opened.push(plug);
  return plug;
}

beforeAll(async () => {
  // Inside the project, so the runtime-provided @aws-sdk/* resolves from node_modules as it would in Lambda.
  mkdirTmp();
  bundle = await bundleHandler('lambda/button-click.ts', dir);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((p) => p.close()));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function mkdirTmp(): void {
  const base = join(process.cwd(), '.bench-tmp');
  mkdirSync(base, { recursive: true });
  dir = mkdtempSync(join(base, 'button-bundle-test-'));
}

/** Runs `script` (ESM) in a fresh node with `env`; resolves with exit code and output. */
function node(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: 'button-click', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the bundled button handler', () => {
  it('leaves the AWS SDK to the runtime and imports the SNS client only on demand', () => {
    const text = readFileSync(bundle, 'utf8');
    expect(text).toMatch(/import\(["']@aws-sdk\/client-sns["']\)/);
    expect(text).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(text).not.toContain('tplink-smarthome');
  });

  it('fails its cold start when the configuration is bad, naming the variable', async () => {
    const r = await node(`await import(${JSON.stringify(bundle)});`, { SHADOWPLUG_DEFAULT_TARGETS: 'plug:99999' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('SHADOWPLUG_DEFAULT_TARGETS: invalid plug address "plug:99999"');
    const none = await node(`await import(${JSON.stringify(bundle)});`, {});
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('SHADOWPLUG_DEFAULT_TARGETS: is not set');
  });

  it('switches a plug when invoked like Lambda invokes it', async () => {
    const plug = await freshPlug();
    const env = buttonFunctionEnvironment({ defaultTargets: `127.0.0.1:${plug.port}`, plugMode: 'direct' });
    const event = { serialNumber: 'G030JF05', clickType: 'SINGLE', batteryVoltage: '1705mV', requestId: 'r1', receivedAt: Date.now() };
    const r = await node(
      `const { handler } = await import(${JSON.stringify(bundle)});
       const outcome = await handler(${JSON.stringify(event)}, { awsRequestId: 'aws-1' });
       process.stdout.write(JSON.stringify(outcome));`,
      env,
    );
    expect(r.code).toBe(0);
    // stdout: the embedded-metric line (CloudWatch makes metrics of it), then what the script printed.
    const [metrics, outcome] = r.stdout.split('\n');
    expect(JSON.parse(metrics!)).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'Shadowplug' }] }, service: 'button-click', ClicksFailed: 0, ClicksSkipped: 0 });
    expect(JSON.parse(outcome!)).toMatchObject({ status: 'done', clicks: [{ power: true }] });
    expect(plug.state().relayState).toBe(1);
    // One JSON log line per event, on stderr (CloudWatch), with the fields asked for.
    const line = JSON.parse(r.stderr.trim().split('\n').find((l) => l.includes('click handled'))!);
    expect(line).toMatchObject({ level: 'info', service: 'button-click', serial: 'G030JF05', clickType: 'SINGLE', awsRequestId: 'aws-1', outcome: 'done' });
  });

  it('keeps KLAP, AES and SMART out of index.mjs, in button-protocols.mjs beside it, imported on demand', () => {
    const main = readFileSync(bundle, 'utf8');
    const lazy = readFileSync(join(dir, 'button-protocols.mjs'), 'utf8');
    expect(main).toMatch(/import\(["']\.\/button-protocols\.mjs["']\)/);
    for (const text of ['/app/handshake1', 'securePassthrough', 'get_child_device_list', 'GetSecretValueCommand']) {
      expect(main).not.toContain(text);
      expect(lazy).toContain(text);
    }
    expect(lazy).toMatch(/import\(["']@aws-sdk\/client-secrets-manager["']\)/);
    expect(lazy).not.toMatch(/from\s*["']@aws-sdk\//);
  });

  it("keeps each plug mode's driver out of index.mjs, in a file of its own that holds no other mode's code", () => {
    expect(lazyFiles('lambda/button-click.ts', dir).map((f) => f.slice(dir.length + 1))).toEqual(['button-relay.mjs', 'button-direct.mjs', 'button-protocols.mjs']);
    const main = readFileSync(bundle, 'utf8');
    const relay = readFileSync(join(dir, 'button-relay.mjs'), 'utf8');
    const direct = readFileSync(join(dir, 'button-direct.mjs'), 'utf8');
    expect(main).toMatch(/import\(["']\.\/button-relay\.mjs["']\)/);
    expect(main).toMatch(/import\(["']\.\/button-direct\.mjs["']\)/);
    // The relay driver: the shadow client; the direct driver: the XOR client on TCP 9999.
    for (const text of ['GetThingShadowCommand', 'UpdateThingShadowCommand', '@aws-sdk/client-iot-data-plane']) {
      expect(main).not.toContain(text);
      expect(direct).not.toContain(text);
      expect(relay).toContain(text);
    }
    for (const text of ['set_relay_state', 'get_sysinfo']) {
      expect(main).not.toContain(text);
      expect(relay).not.toContain(text);
      expect(direct).toContain(text);
    }
  });

  it("keeps the settings' descriptions out of the bundle (they are for the docs and --help)", () => {
    const main = readFileSync(bundle, 'utf8');
    expect(main).toContain('SHADOWPLUG_CLICK_ACTIONS');
    expect(main).not.toContain('Request ids a warm container remembers');
    expect(main).not.toContain('How much to log');
    // Nor the other functions' variables.
    expect(main).not.toContain('SHADOWPLUG_TARGET_THINGS');
  });

  it('gives a direct XOR click the XOR transport unshared: the device mutex is not bundled with it', async () => {
    const direct = await bundleInputs('lambda/button-direct.mts');
    expect(direct).toContain('core/tplink/xor-transport.ts');
    expect(direct).not.toContain('core/tplink/device-mutex.ts');
    expect(await bundleInputs('lambda/button-protocols.mts')).toContain('core/tplink/device-mutex.ts');
  });

  it('switches an XOR plug with index.mjs and button-direct.mjs alone (a direct XOR click loads no relay or KLAP/AES code)', async () => {
    const plug = await freshPlug();
    const alone = mkdtempSync(join(process.cwd(), '.bench-tmp', 'button-bundle-alone-'));
    try {
      for (const file of ['index.mjs', 'button-direct.mjs']) copyFileSync(join(dir, file), join(alone, file));
      const r = await node(
        `const { handler } = await import(${JSON.stringify(join(alone, 'index.mjs'))});
         process.stdout.write(JSON.stringify(await handler({ serialNumber: 'G030JF05', clickType: 'SINGLE', requestId: 'r-alone' })));`,
        buttonFunctionEnvironment({ defaultTargets: `127.0.0.1:${plug.port}`, plugMode: 'direct' }),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.split('\n').pop()!)).toMatchObject({ status: 'done' });
      expect(plug.state().relayState).toBe(1);
    } finally {
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it("reaches the plug's shadow with index.mjs and button-relay.mjs alone (a relay click loads no XOR code)", async () => {
    const alone = mkdtempSync(join(process.cwd(), '.bench-tmp', 'button-bundle-relay-'));
    // A stand-in data plane on 127.0.0.1 that records what it is asked and answers "no such shadow".
    const asked: string[] = [];
    const dataPlane = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ message: 'No shadow exists with name: plug-lamp' }));
    });
    await new Promise<void>((resolve) => dataPlane.listen(0, '127.0.0.1', resolve));
    try {
      for (const file of ['index.mjs', 'button-relay.mjs']) copyFileSync(join(dir, file), join(alone, file));
      const endpoint = `http://127.0.0.1:${(dataPlane.address() as AddressInfo).port}`;
      const r = await node(
        `const { handler } = await import(${JSON.stringify(join(alone, 'index.mjs'))});
         process.stdout.write(JSON.stringify(await handler({ serialNumber: 'G030JF05', clickType: 'SINGLE', requestId: 'r-relay' })));`,
        {
          ...buttonFunctionEnvironment({ defaultTargets: ['lamp'], plugMode: 'relay', plugs: 'lamp@hub-1=192.168.1.20', iotDataEndpoint: endpoint, confirmTimeoutMs: 0 }),
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(asked.some((a) => a.startsWith('GET /things/hub-1/shadow?name=plug-lamp'))).toBe(true);
    } finally {
      await new Promise<void>((resolve) => dataPlane.close(() => resolve()));
      rmSync(alone, { recursive: true, force: true });
    }
  });

  it('switches a KLAP plug through the lazily loaded file, with the default credentials when no secret is configured', async () => {
    const klap = await startSimulatedDevice('p110-klap', { credentials: KASA_DEFAULT_CREDENTIALS });
    try {
      const r = await node(
        `const { handler } = await import(${JSON.stringify(bundle)});
         process.stdout.write(JSON.stringify(await handler({ serialNumber: 'G030JF05', clickType: 'SINGLE', requestId: 'r-klap' })));`,
        buttonFunctionEnvironment({ defaultTargets: `127.0.0.1:${klap.port}`, plugMode: 'direct' }),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout.split('\n').pop()!)).toMatchObject({ status: 'done', clicks: [{ targets: [{ status: 'switched', alias: 'Kettle' }] }] });
      expect(klap.states()).toEqual([true]);
    } finally {
      await klap.close();
    }
  });
});
