/**
 * The dashboard's plug monitor against real TP-Link peers over TCP on 127.0.0.1: a plug that
 * does not answer is offline (and says why), one that comes up is online with its state, and a
 * strip is read outlet by outlet with its meters, over XOR and over KLAP (SMART requests).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PlugMonitor, tplinkConnector } from '../../../sandbox/dashboard/plug-monitor';
import { startSimulatedPlug, type SimulatedPlug } from '../../../sandbox/simulated-plug';
import { startSimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import type { PlugView } from '../../../sandbox/dashboard/view';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('PlugMonitor', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  function monitor(port: number, views: PlugView[]): PlugMonitor {
    const m = new PlugMonitor({
      host: '127.0.0.1',
      port,
      simulated: true,
      connect: tplinkConnector({ host: '127.0.0.1', port }, { protocol: 'xor', connectTimeoutMs: 500, requestTimeoutMs: 1_000 }),
      onView: (v) => views.push(v),
      everyMs: 60_000,
    });
    closers.push(() => m.close());
    return m;
  }

  it('is offline while nothing answers, naming the address, and online with the state once the plug is up', async () => {
    const port = await freePort();
    const views: PlugView[] = [];
    const m = monitor(port, views);
    const offline = await m.start();
    expect(offline).toMatchObject({ online: false, host: '127.0.0.1', port });
    expect(offline.error).toContain(`127.0.0.1:${port}`);

    const plug: SimulatedPlug = await startSimulatedPlug({ port });
    closers.push(() => plug.close());
    const online = await m.refresh();
    expect(online).toMatchObject({ online: true, model: 'HS100(US)', alias: 'sandbox plug', relayState: 0, metered: false });
    expect(online.error).toBeUndefined();

    await m.toggle();
    expect(plug.state().relayState).toBe(1);
    expect(m.current.relayState).toBe(1);
    expect(views.map((v) => v.online)).toEqual([false, true, true]);
  });

  it('reads a strip outlet by outlet, with each meter in watts, and switches one outlet', async () => {
    const strip = await startSimulatedPlug({ strip: true });
    closers.push(() => strip.close());
    const m = monitor(strip.port, []);
    const view = await m.start();
    expect(view.metered).toBe(true);
    expect(view.children).toHaveLength(6);
    expect(view.children![0]!.energy!.powerW).toBeGreaterThan(0);
    await m.toggle(4);
    expect(strip.state().children!.map((c) => c.state)).toEqual([0, 0, 0, 0, 1, 0]);
  });

  it('reads a P304M strip over KLAP (SMART) outlet by outlet, meters included, names the protocol, and switches one outlet', async () => {
    const credentials = { username: 'owner@example.com', password: 'pw-strip' };
    const strip = await startSimulatedDevice('p304m-klap', { credentials, host: '127.0.0.1', port: 0 });
    closers.push(() => strip.close());
    const views: PlugView[] = [];
    const m = new PlugMonitor({
      host: strip.host,
      port: strip.port,
      simulated: true,
      connect: tplinkConnector({ host: strip.host, port: strip.port }, { protocol: 'klap', family: 'smart', credentials, connectTimeoutMs: 500, requestTimeoutMs: 1_000 }),
      protocol: 'SMART over KLAP (expected)',
      onView: (v) => views.push(v),
      everyMs: 60_000,
    });
    closers.push(() => m.close());
    expect(m.current.protocol).toBe('SMART over KLAP (expected)');
    const view = await m.start();
    expect(view).toMatchObject({ online: true, model: 'P304M', protocol: 'SMART over KLAP v2', metered: true });
    expect(view.children!.map((c) => [c.alias, c.state])).toEqual([['Lamp', 0], ['Monitor', 0], ['Printer', 0], ['Radio', 0]]);
    expect(view.children![1]!.energy).toMatchObject({ powerW: 0 });

    const after = await m.toggle(1);
    expect(strip.states()).toEqual([false, true, false, false]);
    expect(after.children![1]).toMatchObject({ state: 1, energy: { powerW: 27 } });
    // Three calls (check, switch, check after it): a connection each, closed after; one KLAP session kept.
    expect(strip.server.stats).toMatchObject({ connections: 3, handshakes: 1 });
  });

  it('shows a KLAP plug that refuses our account as offline, naming why, and keeps the protocol it expected', async () => {
    const device = await startSimulatedDevice('p110-klap', { credentials: { username: 'someone-else@example.com', password: 'theirs' }, host: '127.0.0.1', port: 0 });
    closers.push(() => device.close());
    const m = new PlugMonitor({
      host: device.host,
      port: device.port,
      simulated: true,
      connect: tplinkConnector({ host: device.host, port: device.port }, { protocol: 'klap', family: 'smart', credentials: { username: 'owner@example.com', password: 'wrong' }, connectTimeoutMs: 500, requestTimeoutMs: 1_000 }),
      protocol: 'SMART over KLAP',
      onView: () => undefined,
      everyMs: 60_000,
    });
    closers.push(() => m.close());
    const view = await m.start();
    expect(view).toMatchObject({ online: false, protocol: 'SMART over KLAP' });
    expect(view.error).toMatch(/TPLINK_AUTH|credential|account/i);
    expect(view.error).toContain(`127.0.0.1:${device.port}`);
  });
});
