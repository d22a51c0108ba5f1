/**
 * Discovery on UDP 20002 (TDP), unicast to 127.0.0.1 only: our simulated responder is proven by
 * python-kasa's discovery (which then connects to the announced HTTP port and reads the device),
 * and our discoverEncrypted reads the same answers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { discoverEncrypted, kindFromDiscovery } from '../../../core/tplink/discovery';
import { tdpCrcValid, tdpProbe } from '../../../core/tplink/tdp';
import { plugAction } from '../../../core/tplink/operations';
import { DetectionCache } from '../../../core/tplink/connect';
import { SessionCache } from '../../../core/tplink/session-transport';
import { startSimulatedDevice, type SimulatedDevice, type SimulatedDeviceKind } from '../../../sandbox/plugs/simulated-devices';
import { startTdpResponder, type TdpResponder } from '../../../sandbox/plugs/tdp-responder';
import { pythonPeer } from '../../helpers/python-peer';

const credentials = { username: 'owner@example.com', password: 'secret' };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function setUp(kinds: SimulatedDeviceKind[]): Promise<{ devices: SimulatedDevice[]; responder: TdpResponder }> {
  const devices = await Promise.all(kinds.map((k) => startSimulatedDevice(k, { credentials })));
  open.push(...devices);
  const responder = await startTdpResponder(devices);
  open.push(responder);
  return { devices, responder };
}

interface KasaFound {
  error?: string;
  ip: string;
  port: number;
  model: string;
  alias: string;
  is_on: boolean;
  encrypt_type: string;
  family: string;
}

describe('TDP discovery (UDP, 127.0.0.1 only)', () => {
  for (const [kind, encrypt, family] of [
    ['p110-klap', 'KLAP', 'SMART.TAPOPLUG'],
    ['p100-aes', 'AES', 'SMART.TAPOPLUG'],
    ['hs103-klap2', 'KLAP', 'IOT.SMARTPLUGSWITCH'],
  ] as const) {
    it(`python-kasa discovers the simulated ${kind}, connects to the announced port and reads it`, async () => {
      const { devices, responder } = await setUp([kind]);
      const found = await pythonPeer<KasaFound[]>('kasa_discover.py', { port: responder.port, ...credentials });
      expect(found).toEqual([
        expect.objectContaining({ ip: '127.0.0.1', port: devices[0]!.port, encrypt_type: encrypt, family, is_on: false }),
      ]);
      expect(found[0]!.model).toBe(devices[0]!.model.model.split('(')[0]);
    }, 60_000);
  }

  it('discoverEncrypted lists each device with model, transport, family, login version and HTTP port; the plug is then reachable', async () => {
    const { devices, responder } = await setUp(['p110-klap', 'p100-aes', 'hs100-klap1']);
    const found = await discoverEncrypted({ target: { host: '127.0.0.1', port: responder.port }, timeoutMs: 400 });
    const byPort = new Map(found.map((f) => [f.httpPort, f]));
    expect(byPort.get(devices[0]!.port)).toMatchObject({ host: '127.0.0.1', model: 'P110', transport: 'klap', family: 'smart', loginVersion: 2 });
    expect(byPort.get(devices[1]!.port)).toMatchObject({ model: 'P100', transport: 'aes', family: 'smart' });
    expect(byPort.get(devices[2]!.port)).toMatchObject({ model: 'HS100(UK)', transport: 'klap', family: 'iot', loginVersion: 1 });
    expect(found).toHaveLength(3); // three probes, one entry each
    const p110 = byPort.get(devices[0]!.port)!;
    const kind = kindFromDiscovery(p110);
    const result = await plugAction({ host: p110.host, port: kind.port }, 'on', {
      credentials,
      protocol: kind.transport,
      family: kind.family,
      detection: new DetectionCache(),
      sessions: new SessionCache(),
    });
    expect(result.after.relayState).toBe(1);
    expect(devices[0]!.states()).toEqual([true]);
  });

  it('an IOT plug that wants KLAP v2 without advertising lv (KP115 on 1.1.x): python-kasa fails on it, we read it', async () => {
    const { devices, responder } = await setUp(['kp115-klap2']);
    const kp115 = devices[0]!;
    // python-kasa picks KLAP v1 for an IOT device unless discovery says lv >= 2, and does not fall back.
    const kasaFound = await pythonPeer<KasaFound[]>('kasa_discover.py', { port: responder.port, ...credentials });
    expect(kasaFound).toEqual([expect.objectContaining({ port: kp115.port, error: expect.stringMatching(/AuthenticationError/) })]);

    const [info] = await discoverEncrypted({ target: { host: '127.0.0.1', port: responder.port }, timeoutMs: 400 });
    expect(info).toMatchObject({ model: 'KP115(US)', transport: 'klap', family: 'iot', loginVersion: undefined });
    const kind = kindFromDiscovery(info!);
    expect(kind).toEqual({ transport: 'klap', family: 'iot', port: kp115.port, version: 1 });
    const detection = new DetectionCache();
    const options = { credentials, detection, sessions: new SessionCache() };
    const read = await plugAction({ host: info!.host, port: kind.port }, 'on', { ...options, protocol: kind.transport, family: kind.family, version: kind.version });
    expect(read.connection).toMatchObject({ transport: 'klap', family: 'iot', version: 2 });
    expect(kp115.states()).toEqual([true]);
  }, 60_000);

  it('a remembered KLAP v1 kind for a plug now on v2 (firmware update) is read on the same handshake and remembered as v2', async () => {
    const { devices } = await setUp(['kp115-klap2']);
    const kp115 = devices[0]!;
    const address = { host: kp115.host, port: kp115.port };
    const detection = new DetectionCache();
    detection.set(`${kp115.host}:${kp115.port}`, { transport: 'klap', family: 'iot', port: kp115.port, version: 1 });
    const status = await plugAction(address, 'status', { credentials, detection, sessions: new SessionCache() });
    expect(status.after).toMatchObject({ model: 'KP115(US)', relayState: 0, energy: { powerW: 0 } });
    expect(kp115.server.stats.handshakes).toBe(1);
    expect(detection.get(`${kp115.host}:${kp115.port}`)).toMatchObject({ version: 2 });
  });

  it('builds probes whose CRC the responder checks (a corrupted one is ignored)', async () => {
    const probe = tdpProbe('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n', 0x01020304);
    expect(tdpCrcValid(probe)).toBe(true);
    probe.writeUInt8(probe.readUInt8(probe.length - 1) ^ 1, probe.length - 1);
    expect(tdpCrcValid(probe)).toBe(false);
  });
});
