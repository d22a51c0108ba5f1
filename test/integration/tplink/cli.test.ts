import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { closedPort } from '../../helpers/fault-plug';
import { startSimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import { startTdpResponder } from '../../../sandbox/plugs/tdp-responder';

const credentials = { username: 'owner@example.com', password: 'cli-secret-1' };

const CLI = fileURLToPath(new URL('../../../bin/shadowplug.mjs', import.meta.url));

/** Runs the real CLI in a child process (asynchronously: the simulator lives in this process). */
function cli(...input: (string | Record<string, string>)[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = input.filter((a): a is string => typeof a === 'string');
  const env = { ...process.env, ...Object.assign({}, ...input.filter((a) => typeof a !== 'string')) } as NodeJS.ProcessEnv;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'plug', ...args], { timeout: 20_000, env }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let hs100: SimulatedPlug;
let hs300: SimulatedPlug;

// Fresh plugs (both off) for every test, so each holds in any order.
beforeEach(async () => {
  hs100 = await startSimulatedPlug('hs100', 'Desk lamp');
  hs300 = await startSimulatedPlug('hs300');
});

afterEach(async () => {
  await hs100?.stop();
  await hs300?.stop();
});

describe('shadowplug plug', () => {
  it('toggles a plug and prints one JSON object', async () => {
    const r = await cli(hs100.address, 'toggle', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      host: '127.0.0.1',
      port: hs100.port,
      alias: 'Desk lamp',
      relayState: 1,
      action: 'toggle',
      changed: true,
      before: { relayState: 0 },
    });
    expect(out.model).toMatch(/^HS100/);
  });

  it('prints a readable status line', async () => {
    expect((await cli(hs100.address, 'on')).code).toBe(0);
    const r = await cli(hs100.address, 'status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${hs100.port}  HS100\\S*  "Desk lamp"  on\\n$`));
  });

  it("prints each outlet's meter of a strip in the status text (HS300), as --json carries it", async () => {
    const json = JSON.parse((await cli(hs300.address, 'status', '--json')).stdout) as { children: { energy?: { powerW?: number } }[] };
    expect(json.children[0]!.energy?.powerW).toEqual(expect.any(Number));
    const r = await cli(hs300.address, 'status');
    expect(r.code).toBe(0);
    const outlets = r.stdout.trim().split('\n').slice(1);
    expect(outlets).toHaveLength(json.children.length);
    for (const line of outlets) expect(line).toMatch(/^ {2}\d\d {2}\[\d\] {2}".*" {2}(on|off) {2}\d+\.\d W {2}\d+ V( {2}total \d+\.\d{3} kWh)?$/);
  });

  it('switches one outlet of a strip chosen by suffix', async () => {
    const r = await cli(hs300.address, 'on', '--child', '03', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.children.map((c: { state: number }) => c.state)).toEqual([0, 0, 0, 1, 0, 0]);
    expect(out.child.index).toBe(3);
  });

  it('fails with one line naming host:port and the cause', async () => {
    const port = await closedPort();
    const r = await cli(`127.0.0.1:${port}`, 'on');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`^shadowplug plug: 127\\.0\\.0\\.1:${port}: connection refused.*KLAP`));
  });

  it('rejects an unknown action with a usage error', async () => {
    const r = await cli(hs100.address, 'explode');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown action 'explode'/);
  });

  it('discovers a plug over UDP on 127.0.0.1, XOR and TDP (KLAP/AES) alike', async () => {
    const p110 = await startSimulatedDevice('p110-klap', { credentials });
    const responder = await startTdpResponder([p110]);
    try {
      const r = await cli('discover', '--target', hs100.address, '--tdp-target', `127.0.0.1:${responder.port}`, '--timeout', '1500', '--json');
      expect(r.code).toBe(0);
      const { plugs, encrypted } = JSON.parse(r.stdout);
      expect(plugs).toHaveLength(1);
      expect(plugs[0]).toMatchObject({ host: '127.0.0.1', port: hs100.port, alias: 'Desk lamp', relayState: 0, protocol: { transport: 'xor' } });
      expect(encrypted).toEqual([expect.objectContaining({ host: '127.0.0.1', httpPort: p110.port, model: 'P110', transport: 'klap', family: 'smart' })]);
    } finally {
      await responder.close();
      await p110.close();
    }
  });
});

describe('shadowplug plug on a plug whose firmware wants TPAP', () => {
  it('discover lists it as TPAP with its port, not supported; status fails with TPLINK_UNSUPPORTED_TRANSPORT naming host:port', async () => {
    const tpap = await startSimulatedDevice('p110-klap', { credentials, faults: { tpap: { port: 4433 } } });
    const responder = await startTdpResponder([tpap]);
    try {
      const found = await cli('discover', '--target', '127.0.0.1:9', '--tdp-target', `127.0.0.1:${responder.port}`, '--timeout', '1000');
      expect(found.code).toBe(0);
      expect(found.stdout).toContain(`127.0.0.1:${tpap.port}  P110  smart over TPAP (port 4433, tls 0, pake [2]), not supported  SMART.TAPOPLUG`);
      const r = await cli(`127.0.0.1:${tpap.port}`, 'status', '--json', { SHADOWPLUG_TPLINK_USERNAME: credentials.username, SHADOWPLUG_TPLINK_PASSWORD: credentials.password });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'TPLINK_UNSUPPORTED_TRANSPORT', host: '127.0.0.1', port: tpap.port });
      expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${tpap.port}: the device wants TPAP \\(port 4433`));
    } finally {
      await responder.close();
      await tpap.close();
    }
  });
});

describe('shadowplug plug on KLAP and AES plugs', () => {
  it('switches a Tapo P110 (SMART over KLAP) with --tplink-username/--tplink-password, detecting the protocol, and --json says which', async () => {
    const p110 = await startSimulatedDevice('p110-klap', { credentials });
    try {
      const r = await cli(`127.0.0.1:${p110.port}`, 'toggle', '--json', '--tplink-username', credentials.username, '--tplink-password', credentials.password);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toMatchObject({ model: 'P110', alias: 'Kettle', relayState: 1, changed: true, protocol: { transport: 'klap', family: 'smart', version: 2 } });
      expect(p110.states()).toEqual([true]);
    } finally {
      await p110.close();
    }
  });

  it('takes the credentials from the environment, with --protocol aes (P100), and never prints the password', async () => {
    const p100 = await startSimulatedDevice('p100-aes', { credentials });
    try {
      const r = await cli(`127.0.0.1:${p100.port}`, 'on', '--protocol', 'aes', '--json', {
        SHADOWPLUG_TPLINK_USERNAME: credentials.username,
        SHADOWPLUG_TPLINK_PASSWORD: credentials.password,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ relayState: 1, protocol: { transport: 'aes', family: 'smart' } });
      expect(r.stdout + r.stderr).not.toContain(credentials.password);
    } finally {
      await p100.close();
    }
  });

  it('names the account --tplink-username/--tplink-password in its help, as sandbox and agent do; --username/--password stay as hidden aliases', async () => {
    const r = await cli('--help');
    expect(r.stdout).toContain('--tplink-username <email>');
    expect(r.stdout).toContain('--tplink-password <password>');
    expect(r.stdout).not.toMatch(/\s--username/);
  });

  it('wrong credentials (given through the hidden aliases): one line naming host:port and the authentication failure, without the password', async () => {
    const p110 = await startSimulatedDevice('p110-klap', { credentials });
    try {
      const r = await cli(`127.0.0.1:${p110.port}`, 'on', '--protocol', 'klap', '--username', credentials.username, '--password', 'hunter2-wrong');
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^shadowplug plug: 127\\.0\\.0\\.1:${p110.port}: authentication failed`));
      expect(r.stderr).not.toContain('hunter2-wrong');
    } finally {
      await p110.close();
    }
  });
});

describe('shadowplug plug simulate', () => {
  it('runs a simulated P300 strip on 127.0.0.1 that our client switches, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'plug', 'simulate', 'p300-klap', '--json', '--tplink-username', credentials.username, '--tplink-password', credentials.password]);
    try {
      const ready = await new Promise<{ port: number; transport: string; family: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code} before it was ready`)));
      });
      expect(ready).toMatchObject({ transport: 'klap', family: 'smart' });
      const r = await cli(`127.0.0.1:${ready.port}`, 'on', '--child', '2', '--json', '--tplink-username', credentials.username, '--tplink-password', credentials.password);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).children.map((c: { state: number }) => c.state)).toEqual([0, 0, 1]);
    } finally {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
  });
});
