/**
 * TPAP (SPAKE2+ then AEAD) is not spoken here; a device whose firmware wants it must fail clearly,
 * naming host:port and what it advertises, rather than blame the credentials or the app's
 * "Third-Party Compatibility" (its KLAP handshake 1 answers 403 before any credential check).
 * Against a simulated plug moved to TPAP (real HTTP and UDP on 127.0.0.1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plugAction } from '../../../core/tplink/operations';
import { DetectionCache } from '../../../core/tplink/connect';
import { SessionCache } from '../../../core/tplink/session-transport';
import { discoverEncrypted, kindFromDiscovery } from '../../../core/tplink/discovery';
import { startSimulatedDevice, type SimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import { startTdpResponder } from '../../../sandbox/plugs/tdp-responder';
import { RelayedPlug } from '../../../agent/relayed-plug';

const credentials = { username: 'owner@example.com', password: 'secret' };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function tpapPlug(): Promise<SimulatedDevice> {
  const device = await startSimulatedDevice('p110-klap', { credentials, faults: { tpap: { port: 4433 } } });
  open.push(device);
  return device;
}

const options = () => ({ credentials, detection: new DetectionCache(), sessions: new SessionCache(), requestTimeoutMs: 3000 });
const ADVERTISED = /wants TPAP \(port 4433, tls 0, pake \[2\]\), a transport shadowplug does not speak/;

describe('a plug whose firmware wants TPAP', () => {
  it('plug status: TPLINK_UNSUPPORTED_TRANSPORT naming host:port and the advertised TPAP port, not an authentication error', async () => {
    const d = await tpapPlug();
    const err = await plugAction({ host: d.host, port: d.port }, 'status', options()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TPLINK_UNSUPPORTED_TRANSPORT', retryable: false, host: d.host, port: d.port });
    expect((err as Error).message).toMatch(new RegExp(`^${d.host}:${d.port}: `));
    expect((err as Error).message).toMatch(ADVERTISED);
  });

  it('the relay reports the same code and message (what reported.error carries)', async () => {
    const d = await tpapPlug();
    const plug = new RelayedPlug({ id: 'lamp', hub: 'hub', host: d.host, port: d.port }, { ...options() });
    await expect(plug.read()).rejects.toMatchObject({ code: 'TPLINK_UNSUPPORTED_TRANSPORT', message: expect.stringMatching(ADVERTISED) });
  });

  it('plug discover lists it as TPAP with the advertised port; connecting from that answer fails the same way', async () => {
    const d = await tpapPlug();
    const responder = await startTdpResponder([d]);
    open.push(responder);
    const [found] = await discoverEncrypted({ target: { host: '127.0.0.1', port: responder.port }, timeoutMs: 400 });
    expect(found).toMatchObject({ model: 'P110', transport: 'tpap', httpPort: d.port, tpap: { preferred: true, port: 4433, tls: 0, pake: [2] } });
    expect(() => kindFromDiscovery(found!)).toThrow(ADVERTISED);
  });

  it('a KLAP device that refuses handshake 1 and does not prefer TPAP still gets the Third-Party Compatibility hint', async () => {
    const d = await tpapPlug();
    d.server.faults.tpap = undefined;
    d.server.faults.forbidHandshake = true;
    const err = await plugAction({ host: d.host, port: d.port }, 'status', { ...options(), protocol: 'klap' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TPLINK_AUTH', message: expect.stringMatching(/Third-Party Compatibility/) });
  });
});
