/**
 * A second independent client: tp-link-tapo-connect (npm) drives the simulated Tapo devices, SMART
 * over KLAP v2 and over AES, on 127.0.0.1, in a child process (its AES path needs Node's
 * `--security-revert=CVE-2023-46809`, which must not touch the test process). Our client passes the
 * same assertions against the same kind of device.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DetectionCache } from '../../../core/tplink/connect';
import { plugAction } from '../../../core/tplink/operations';
import { SessionCache } from '../../../core/tplink/session-transport';
import { startSimulatedDevice, type SimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import type { SimulatedSmartDevice } from '../../../sandbox/plugs/smart-device';

const PEER = fileURLToPath(new URL('../../peers/tapo-connect.mjs', import.meta.url));
const credentials = { username: 'owner@example.com', password: 'tapo-secret' };

let device: SimulatedDevice | undefined;
afterEach(async () => {
  await device?.close();
  device = undefined;
});

function tapoConnect(port: number): Promise<{ before: boolean; after: boolean; model: string; nickname: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['--security-revert=CVE-2023-46809', PEER],
      { timeout: 30_000 },
      // Node prints the security-revert warning on stdout: the answer is the last line.
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').at(-1)!))),
    );
    child.stdin!.end(JSON.stringify({ address: `127.0.0.1:${port}`, ...credentials }));
  });
}

// tp-link-tapo-connect logs in with login v1 (base64 password), as older AES firmware expects.
for (const [kind, label, loginVersion] of [
  ['p110-klap', 'P110, SMART over KLAP v2', 2],
  ['p100-aes', 'P100, SMART over AES (login v1)', 1],
] as const) {
  describe(label, () => {
    it('tp-link-tapo-connect: state read, switched on, read back', async () => {
      device = await startSimulatedDevice(kind, { credentials, loginVersion });
      const seen = await tapoConnect(device.port);
      expect(seen).toMatchObject({ before: false, after: true, model: device.model.model });
      expect(seen.nickname).toBe((device.model as SimulatedSmartDevice).nickname); // it decodes the base64 itself
      expect(device.states()).toEqual([true]);
    }, 40_000);

    it('our client: state read, switched on, read back', async () => {
      device = await startSimulatedDevice(kind, { credentials, loginVersion });
      const options = { credentials, detection: new DetectionCache(), sessions: new SessionCache() };
      const address = { host: device.host, port: device.port };
      expect((await plugAction(address, 'status', options)).after.relayState).toBe(0);
      expect((await plugAction(address, 'on', options)).after.relayState).toBe(1);
      expect(device.states()).toEqual([true]);
      expect((await plugAction(address, 'status', options)).after.relayState).toBe(1);
    });
  });
}
