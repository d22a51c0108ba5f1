import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { closedPort } from '../../helpers/fault-plug';

const CLI = fileURLToPath(new URL('../../../bin/shadowplug.mjs', import.meta.url));

/** Runs the real CLI in a child process (asynchronously: the simulator lives in this process). */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'plug', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let hs100: SimulatedPlug;
let hs300: SimulatedPlug;

beforeAll(async () => {
  hs100 = await startSimulatedPlug('hs100', 'Desk lamp');
  hs300 = await startSimulatedPlug('hs300');
});

afterAll(async () => {
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
    const r = await cli(hs100.address, 'status');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^127\\.0\\.0\\.1:${hs100.port}  HS100\\S*  "Desk lamp"  on\\n$`));
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

  it('discovers a plug over UDP on 127.0.0.1', async () => {
    const r = await cli('discover', '--target', hs100.address, '--timeout', '1500', '--json');
    expect(r.code).toBe(0);
    const { plugs } = JSON.parse(r.stdout);
    expect(plugs).toHaveLength(1);
    expect(plugs[0]).toMatchObject({ host: '127.0.0.1', port: hs100.port, alias: 'Desk lamp', relayState: 1 });
  });
});
