/**
 * The agent's plug capability end to end: the IoT Core stand-in over mutual TLS (with the device
 * policy allowing the hub's `plug-*` shadows), the agent, and simulated plugs on 127.0.0.1:
 * tplink-smarthome-simulator (XOR) and the KLAP/AES devices of sandbox/plugs (proven by
 * python-kasa in test/integration/tplink). Requests are written into the plug shadow as the
 * button function writes them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import type { PlugEvent } from '../../../agent/plug-relay';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { plugShadowName } from '../../../core/plug-relay/contract';
import type { PlugConfig } from '../../../core/plug-relay/config';
import { KASA_DEFAULT_CREDENTIALS } from '../../../core/tplink/credentials';
import { klapAuthHash } from '../../../core/tplink/klap-crypto';
import { Plug } from '../../../core/tplink/plug';
import { createLogger } from '../../../core/logger';
import { PLUG_DETECTION_FILE } from '../../../agent/plug-detection-store';
import { startSimulatedDevice, type SimulatedDevice, type SimulatedDeviceKind } from '../../../sandbox/plugs/simulated-devices';
import type { SimulatedSmartDevice } from '../../../sandbox/plugs/smart-device';
import { startAgentHarness, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { startTcpProxy, type TcpProxy } from '../../helpers/agent-tcp-proxy';
import { ManualTimers } from '../../helpers/manual-timers';
import { startFaultPlug } from '../../helpers/fault-plug';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';

const CLI = join(import.meta.dirname, '../../../bin/shadowplug.mjs');
const HUB_POLICY = devicePolicy({ shadows: [CLASSIC_SHADOW, { kind: 'named-prefix', prefix: 'plug-' }] });

describe('agent plug capability (plug-<id> shadows on the hub thing, simulated plugs over TCP)', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;
  let now: number;
  const timers = new ManualTimers();
  const opened: { close(): Promise<void> }[] = [];
  const sims: SimulatedPlug[] = [];
  const proxies: TcpProxy[] = [];
  const events: PlugEvent[] = [];

  beforeEach(async () => {
    h = await startAgentHarness({ iot: { devicePolicy: HUB_POLICY }, thing: 'hub-1' });
    now = 1_000_000;
    events.length = 0;
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await Promise.all(proxies.splice(0).map((p) => p.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await h.close();
  });

  async function sim(model = 'hs100'): Promise<SimulatedPlug> {
    const s = await startSimulatedPlug(model);
    sims.push(s);
    return s;
  }
  /** A test's own TP-Link client: the plug's own button, as far as the system can tell. */
  function byHand(s: { host: string; port: number }): Plug {
    const p = new Plug({ host: s.host, port: s.port });
    opened.push(p);
    return p;
  }
  async function relayOn(s: SimulatedPlug, child?: number): Promise<boolean> {
    const st = await byHand(s).status();
    return child === undefined ? st.relayState === 1 : st.children![child]!.state === 1;
  }
  async function start(plugs: PlugConfig[]): Promise<Agent> {
    agent = await startAgent(h.agentOptions({ plugs, plugPollMs: 10_000, timers, clock: () => now }));
    agent.on('plug', (e) => events.push(e));
    return agent;
  }
  const reported = (id: string) => h.iot.shadows.get('hub-1', plugShadowName(id))?.state as { reported?: Record<string, unknown> } | undefined;
  const lastRequest = (id: string) => reported(id)?.reported?.lastRequest as { requestId: string; outcome: string; error?: { code: string } } | undefined;
  function request(id: string, power: 'on' | 'off' | string, requestId: string, requestedAt = now): void {
    const r = h.iot.shadows.update('hub-1', { state: { desired: { power, requestId, requestedAt } } }, plugShadowName(id));
    if (!r.ok) throw new Error(JSON.stringify(r.payload));
  }

  it('reports each plug’s state, model and alias when it starts, and energy where the plug has a meter', async () => {
    const lamp = await sim('hs100');
    const meter = await sim('hs110');
    await start([
      { id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port },
      { id: 'meter', hub: 'hub-1', host: meter.host, port: meter.port },
    ]);
    await waitFor(() => reported('lamp')?.reported?.online === true && reported('meter')?.reported?.online === true, 'both plugs reported');
    expect(reported('lamp')!.reported).toMatchObject({ online: true, power: 'off', model: expect.stringContaining('HS100') as unknown });
    expect(reported('lamp')!.reported!.energy).toBeUndefined();
    expect(reported('meter')!.reported!.energy).toMatchObject({ powerW: expect.any(Number) as unknown, voltageV: expect.any(Number) as unknown });
  });

  it('applies a fresh desired power over the LAN and answers it with lastRequest applied, then back off', async () => {
    const lamp = await sim();
    await start([{ id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port }]);
    await waitFor(() => reported('lamp')?.reported?.online === true, 'first report');
    request('lamp', 'on', 'click-1');
    await waitFor(() => lastRequest('lamp')?.requestId === 'click-1', 'click-1 answered');
    expect(lastRequest('lamp')).toEqual({ requestId: 'click-1', outcome: 'applied' });
    expect(reported('lamp')!.reported!.power).toBe('on');
    expect(await relayOn(lamp)).toBe(true);
    request('lamp', 'off', 'click-2');
    await waitFor(() => lastRequest('lamp')?.requestId === 'click-2', 'click-2 answered');
    expect(await relayOn(lamp)).toBe(false);
  });

  it('switches a strip outlet as a plug of its own, leaving the other outlets alone', async () => {
    const strip = await sim('hs300');
    await start([
      { id: 'strip-1', hub: 'hub-1', host: strip.host, port: strip.port, child: 1 },
      { id: 'strip-2', hub: 'hub-1', host: strip.host, port: strip.port, child: 2 },
    ]);
    await waitFor(() => reported('strip-1')?.reported?.online === true, 'outlet reported');
    request('strip-1', 'on', 'c1');
    await waitFor(() => lastRequest('strip-1')?.outcome === 'applied', 'outlet switched');
    expect(await relayOn(strip, 1)).toBe(true);
    expect(await relayOn(strip, 2)).toBe(false);
  });

  it('does not apply a request older than the age limit: reports expired and leaves the plug alone', async () => {
    const lamp = await sim();
    request('lamp', 'on', 'old-click', now - 31_000);
    await start([{ id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port }]);
    await waitFor(() => lastRequest('lamp')?.requestId === 'old-click', 'old click answered');
    expect(lastRequest('lamp')).toMatchObject({ outcome: 'expired', error: { code: 'PLUG_REQUEST_EXPIRED' } });
    expect(await relayOn(lamp)).toBe(false);
  });

  it('reports a desired value outside the contract as failed once, and goes on serving the next request and other plugs', async () => {
    const lamp = await sim();
    const fan = await sim();
    await start([
      { id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port },
      { id: 'fan', hub: 'hub-1', host: fan.host, port: fan.port },
    ]);
    await waitFor(() => reported('lamp')?.reported?.online === true, 'first report');
    request('lamp', 'dim', 'bad-1');
    request('fan', 'on', 'fan-1');
    await waitFor(() => lastRequest('lamp')?.requestId === 'bad-1' && lastRequest('fan')?.requestId === 'fan-1', 'both answered');
    expect(lastRequest('lamp')).toMatchObject({ outcome: 'failed', error: { code: 'PLUG_DESIRED_INVALID' } });
    expect(await relayOn(fan)).toBe(true);
    const failures = events.filter((e) => e.requestId === 'bad-1').length;
    timers.tick();
    request('lamp', 'on', 'good-1');
    await waitFor(() => lastRequest('lamp')?.requestId === 'good-1', 'next request answered');
    // The failed answer's error is gone from the document, not left beside the applied one.
    expect(lastRequest('lamp')).toEqual({ requestId: 'good-1', outcome: 'applied' });
    expect(events.filter((e) => e.requestId === 'bad-1')).toHaveLength(failures);
  });

  it('shows a switch made at the plug itself in reported at the next poll', async () => {
    const lamp = await sim();
    await start([{ id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port }]);
    await waitFor(() => reported('lamp')?.reported?.power === 'off', 'first report');
    await byHand(lamp).setPower(true);
    timers.tick();
    await waitFor(() => reported('lamp')?.reported?.power === 'on', 'the press at the plug reported');
  });

  it('reports an unreachable plug offline with the typed error, a request to it failed, and recovers by itself', async () => {
    const lamp = await sim();
    const path = await startTcpProxy(lamp.port);
    proxies.push(path);
    await start([{ id: 'lamp', hub: 'hub-1', host: '127.0.0.1', port: path.port }]);
    await waitFor(() => reported('lamp')?.reported?.online === true, 'first report');
    path.refuse(true);
    path.cutAll();
    timers.tick();
    await waitFor(() => reported('lamp')?.reported?.online === false, 'offline reported');
    expect((reported('lamp')!.reported!.error as { code: string }).code).toMatch(/^TPLINK_/);
    request('lamp', 'on', 'while-away');
    await waitFor(() => lastRequest('lamp')?.requestId === 'while-away', 'request answered');
    expect(lastRequest('lamp')).toMatchObject({ outcome: 'failed', error: { code: expect.stringMatching(/^TPLINK_/) as unknown } });
    path.refuse(false);
    timers.tick();
    await waitFor(() => reported('lamp')?.reported?.online === true, 'back online');
    expect(reported('lamp')!.reported!.error).toBeUndefined();
    expect(await relayOn(lamp)).toBe(false);
  });

  it('reports a plug that answers garbage offline with the protocol error, and keeps serving the other plug', async () => {
    const junk = await startFaultPlug({ mode: 'garbage' });
    opened.push(junk);
    const lamp = await sim();
    await start([
      // Told XOR: on its one port a garbage-answering plug also leaves a KLAP probe unanswered (a timeout).
      { id: 'junk', hub: 'hub-1', host: junk.host, port: junk.port, protocol: 'xor' },
      { id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port },
    ]);
    await waitFor(() => reported('junk')?.reported?.online === false, 'junk plug reported offline');
    expect((reported('junk')!.reported!.error as { code: string }).code).toBe('TPLINK_PROTOCOL');
    request('lamp', 'on', 'still-served');
    await waitFor(() => lastRequest('lamp')?.requestId === 'still-served', 'the other plug served');
    expect(lastRequest('lamp')!.outcome).toBe('applied');
  });

  it('queues at most one poll behind a plug that is still being polled, so ticks never pile up', async () => {
    const slow = await startFaultPlug({ mode: 'ok', replyDelayMs: 100 });
    opened.push(slow);
    await start([{ id: 'slow', hub: 'hub-1', host: slow.host, port: slow.port, protocol: 'xor' }]);
    await waitFor(() => reported('slow')?.reported?.online === true, 'first report');
    const before = slow.connections;
    for (let i = 0; i < 5; i++) timers.tick();
    request('slow', 'on', 'after-ticks');
    await waitFor(() => lastRequest('slow')?.requestId === 'after-ticks', 'request answered');
    // The first tick's poll, then the switch: the other four ticks found a poll already queued.
    expect(slow.connections - before).toBe(2);
    expect(lastRequest('slow')!.outcome).toBe('applied');
  });

  it('writes the plug state again when the shadow is deleted', async () => {
    const lamp = await sim();
    await start([{ id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port }]);
    await waitFor(() => reported('lamp')?.reported?.online === true, 'first report');
    expect(h.iot.shadows.delete('hub-1', plugShadowName('lamp')).ok).toBe(true);
    await waitFor(() => reported('lamp')?.reported?.online === true, 'reported again after the delete');
    expect(reported('lamp')!.reported!.power).toBe('off');
  });
});

describe('agent plug capability with every kind of plug (KLAP, AES; IOT, SMART), detected and remembered', () => {
  const account = { username: 'hub-owner@example.com', password: 'correct horse battery staple' };
  let h: AgentHarness;
  let agent: Agent | undefined;
  const timers = new ManualTimers();
  const devices: SimulatedDevice[] = [];
  const sims: SimulatedPlug[] = [];
  const events: PlugEvent[] = [];
  const logLines: string[] = [];

  beforeEach(async () => {
    h = await startAgentHarness({ iot: { devicePolicy: HUB_POLICY }, thing: 'hub-2' });
    events.length = 0;
    logLines.length = 0;
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    await Promise.all(devices.splice(0).map((d) => d.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await h.close();
  });

  async function device(kind: SimulatedDeviceKind, credentials = account): Promise<SimulatedDevice> {
    const d = await startSimulatedDevice(kind, { credentials });
    devices.push(d);
    return d;
  }
  const plug = (id: string, d: { host: string; port: number }, extra: Partial<PlugConfig> = {}): PlugConfig => ({ id, hub: 'hub-2', host: d.host, port: d.port, ...extra });
  async function start(plugs: PlugConfig[], credentials: { username: string; password: string } | undefined = account): Promise<Agent> {
    const logger = createLogger({ level: 'debug', json: true, write: (line) => logLines.push(line) });
    agent = await startAgent(h.agentOptions({ plugs, plugPollMs: 10_000, timers, logger, ...(credentials ? { tplinkCredentials: credentials } : {}) }));
    agent.on('plug', (e) => events.push(e));
    return agent;
  }
  const reported = (id: string) => (h.iot.shadows.get('hub-2', plugShadowName(id))?.state as { reported?: Record<string, unknown> } | undefined)?.reported;
  const lastRequest = (id: string) => reported(id)?.lastRequest as { requestId: string; outcome: string; error?: { code: string; message: string } } | undefined;
  function request(id: string, power: 'on' | 'off', requestId: string): void {
    const r = h.iot.shadows.update('hub-2', { state: { desired: { power, requestId, requestedAt: Date.now() } } }, plugShadowName(id));
    if (!r.ok) throw new Error(JSON.stringify(r.payload));
  }
  const detectionFile = () => join(h.dir, 'state', PLUG_DETECTION_FILE);
  const detected = () => (JSON.parse(readFileSync(detectionFile(), 'utf8')) as { devices: Record<string, { transport: string; family: string; version?: number }> }).devices;

  it('applies desired power to a KLAP v1 IOT plug, a P110 (energy in reported), a P100 on AES and a P300 outlet, and shows presses at the plugs at the next poll', async () => {
    const hs100 = await device('hs100-klap1');
    const p110 = await device('p110-klap');
    const p100 = await device('p100-aes');
    const p300 = await device('p300-klap');
    await start([plug('hall', hs100), plug('kettle', p110), plug('heater', p100), plug('speakers', p300, { child: 1 })]);
    const ids = ['hall', 'kettle', 'heater', 'speakers'];
    await waitFor(() => ids.every((id) => reported(id)?.online === true), 'every plug reported online');
    expect(reported('hall')).toMatchObject({ power: 'off', model: 'HS100(UK)', alias: 'Hall lamp' });
    expect(reported('kettle')).toMatchObject({ power: 'off', model: 'P110', alias: 'Kettle', energy: { powerW: 0, voltageV: 230, currentA: 0 } });
    expect(reported('heater')).toMatchObject({ power: 'off', model: 'P100', alias: 'Heater' });
    expect(reported('speakers')).toMatchObject({ power: 'off', model: 'P300', alias: 'Speakers' });
    // No meter on these: no energy field at all.
    for (const id of ['hall', 'heater', 'speakers']) expect(reported(id)!.energy).toBeUndefined();

    for (const id of ids) request(id, 'on', `${id}-on`);
    await waitFor(() => ids.every((id) => lastRequest(id)?.requestId === `${id}-on`), 'every request answered');
    for (const id of ids) expect(lastRequest(id)).toEqual({ requestId: `${id}-on`, outcome: 'applied' });
    expect([hs100.states(), p110.states(), p100.states(), p300.states()]).toEqual([[true], [true], [true], [false, true, false]]);

    // Detected once and remembered in the state dir: XOR for none of them.
    await waitFor(() => existsSync(detectionFile()) && Object.keys(detected()).length === 4, 'detections written');
    expect(detected()).toEqual({
      [`127.0.0.1:${hs100.port}`]: expect.objectContaining({ transport: 'klap', family: 'iot', version: 1 }) as unknown,
      [`127.0.0.1:${p110.port}`]: expect.objectContaining({ transport: 'klap', family: 'smart', version: 2 }) as unknown,
      [`127.0.0.1:${p100.port}`]: expect.objectContaining({ transport: 'aes', family: 'smart' }) as unknown,
      [`127.0.0.1:${p300.port}`]: expect.objectContaining({ transport: 'klap', family: 'smart', version: 2 }) as unknown,
    });

    // Pressed at the plugs themselves: the next poll (injected timers) shows it, and the meter with it.
    (p110.model as SimulatedSmartDevice).on = false;
    (p300.model as SimulatedSmartDevice).outlets![1]!.on = false;
    timers.tick();
    await waitFor(() => reported('kettle')?.power === 'off' && reported('speakers')?.power === 'off', 'the presses reported');
    (p110.model as SimulatedSmartDevice).on = true;
    timers.tick();
    await waitFor(() => reported('kettle')?.power === 'on', 'kettle on again');
    expect(reported('kettle')!.energy).toMatchObject({ powerW: 12, voltageV: 230, currentA: 0.052 });
  });

  it("reports each strip outlet's own meter (HS300 over XOR, P304M over KLAP), and a whole strip's as their sum; a P300 outlet has none", async () => {
    const strip = await startSimulatedPlug('hs300');
    sims.push(strip);
    const outlets = strip.device.children as unknown as { emeter: { realtime: Record<string, number> } }[];
    outlets[1]!.emeter.realtime = { power: 42.5, voltage: 230.1, current: 0.19, total: 7.25 };
    outlets[2]!.emeter.realtime = { power: 3, voltage: 229.9, current: 0.02, total: 1.5 };
    const p304m = await device('p304m-klap');
    const p300 = await device('p300-klap');
    const ids = ['tv', 'lamp', 'whole', 'monitor', 'radio', 'charger'];
    await start([
      plug('tv', strip, { child: 1 }),
      plug('lamp', strip, { child: 2 }),
      plug('whole', strip),
      plug('monitor', p304m, { child: 1 }),
      plug('radio', p304m, { child: 3 }),
      plug('charger', p300, { child: 2 }),
    ]);
    await waitFor(() => ids.every((id) => reported(id)?.online === true), 'outlets reported');
    expect(reported('tv')!.energy).toEqual({ powerW: 42.5, voltageV: 230.1, currentA: 0.19, totalKwh: 7.25 });
    expect(reported('lamp')!.energy).toEqual({ powerW: 3, voltageV: 229.9, currentA: 0.02, totalKwh: 1.5 });
    // A whole strip: its outlets added up (four at the simulator's default 3.14 W, 122.049 V, 0.125 A, 51.493 kWh), volts averaged.
    const whole = reported('whole')!.energy as Record<string, number>;
    expect(whole.powerW).toBeCloseTo(4 * 3.14 + 42.5 + 3, 3);
    expect(whole.currentA).toBeCloseTo(4 * 0.125 + 0.19 + 0.02, 3);
    expect(whole.totalKwh).toBeCloseTo(4 * 51.493 + 7.25 + 1.5, 3);
    expect(whole.voltageV).toBeCloseTo((4 * 122.049 + 230.1 + 229.9) / 6, 3);
    expect(reported('monitor')!.energy).toEqual({ powerW: 0, voltageV: 230, currentA: 0 });
    expect(reported('charger')!.energy).toBeUndefined();

    request('monitor', 'on', 'monitor-on');
    await waitFor(() => lastRequest('monitor')?.outcome === 'applied', 'outlet switched');
    expect(p304m.states()).toEqual([false, true, false, false]);
    timers.tick();
    await waitFor(() => (reported('monitor')!.energy as { powerW: number }).powerW === 27, "the outlet's meter after the switch");
    expect(reported('radio')!.energy).toMatchObject({ powerW: 0 });
  });

  it('answers a plug with wrong credentials failed with TPLINK_AUTH at once, reports it offline, and goes on serving the others; no password or hash is logged or reported', async () => {
    const locked = await device('hs103-klap2', { username: 'someone-else@example.com', password: 'not the hub owner’s' });
    const aes = await device('p100-aes', { username: 'someone-else@example.com', password: 'not the hub owner’s' });
    const fine = await device('p110-klap');
    await start([plug('locked', locked), plug('locked-aes', aes), plug('fine', fine)]);
    await waitFor(() => reported('locked')?.online === false && reported('locked-aes')?.online === false && reported('fine')?.online === true, 'first reports');
    expect(reported('locked')!.error).toMatchObject({ code: 'TPLINK_AUTH' });
    expect(reported('locked-aes')!.error).toMatchObject({ code: 'TPLINK_AUTH' });

    const handshakesBefore = locked.server.stats.handshakes;
    request('locked', 'on', 'locked-on');
    request('fine', 'on', 'fine-on');
    await waitFor(() => lastRequest('locked')?.requestId === 'locked-on' && lastRequest('fine')?.requestId === 'fine-on', 'both answered');
    expect(lastRequest('locked')).toMatchObject({ outcome: 'failed', error: { code: 'TPLINK_AUTH' } });
    expect(lastRequest('locked')!.error!.message).toContain(`127.0.0.1:${locked.port}`);
    // One KLAP handshake 1 for the request, refused locally: no retry loop, nothing switched.
    expect(locked.server.stats.handshakes - handshakesBefore).toBe(1);
    expect(locked.states()).toEqual([false]);
    expect(lastRequest('fine')!.outcome).toBe('applied');
    expect(events.filter((e) => e.requestId === 'locked-on')).toHaveLength(1);

    // Refused twice (poll, request): the next two polls are skipped, a request is still tried at once.
    const beforeTicks = locked.server.stats.handshakes;
    timers.tick();
    timers.tick();
    request('locked', 'off', 'locked-off');
    await waitFor(() => lastRequest('locked')?.requestId === 'locked-off', 'second request answered');
    expect(locked.server.stats.handshakes - beforeTicks).toBe(1);
    // Refused a third time: four intervals skipped now, and polled again at the fifth.
    for (let i = 0; i < 5; i++) timers.tick();
    await waitFor(() => locked.server.stats.handshakes - beforeTicks === 2, 'polled again after the back-off');

    // Neither the password nor any hash of it: not in the log, not in any plug shadow.
    await agent!.close();
    agent = undefined;
    const secrets = [
      account.password,
      Buffer.from(account.password).toString('base64'),
      ...([1, 2] as const).flatMap((v) => [klapAuthHash(v, account).toString('hex'), klapAuthHash(v, account).toString('base64')]),
      createHash('sha1').update(account.password).digest('hex'),
    ];
    const shadows = ['locked', 'locked-aes', 'fine'].map((id) => JSON.stringify(h.iot.shadows.get('hub-2', plugShadowName(id))));
    expect(logLines.length).toBeGreaterThan(0);
    for (const text of [...logLines, ...shadows]) for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('a Tapo plug that blocks logins (-40404): one login per poll once refused, none while blocked (requests included), reported.error says how long; logins again once sec_left has passed', async () => {
    let now = Date.UTC(2026, 0, 1);
    const owner = { username: 'someone-else@example.com', password: 'not the hub owner’s' };
    const d = await startSimulatedDevice('p100-aes', { credentials: owner, lockout: { maxFailures: 5, blockSeconds: 1800, now: () => now } });
    devices.push(d);
    const logins = () => (d.server as typeof d.server & { logins: { logins: number } }).logins.logins;
    const logger = createLogger({ level: 'debug', json: true, write: (line) => logLines.push(line) });
    agent = await startAgent(h.agentOptions({ plugs: [plug('heater', d)], plugPollMs: 10_000, timers, logger, tplinkCredentials: account, clock: () => now }));
    const polled = (n: number) => waitFor(() => logins() === n, `${n} logins`);
    // Dated on the hub's clock (the test's), as a click's would be.
    const ask = (requestId: string) => {
      expect(h.iot.shadows.update('hub-2', { state: { desired: { power: 'on', requestId, requestedAt: now } } }, plugShadowName('heater')).ok).toBe(true);
    };
    await polled(4); // the first poll: login v2 and v1, the account's and Tapo's default
    await waitFor(() => reported('heater')?.online === false, 'offline');
    timers.tick(); // skipped (back-off after a refusal)
    timers.tick(); // one login: the fifth refused one, the device blocks from now
    await polled(5);
    for (let i = 0; i < 3; i++) timers.tick(); // two skipped, then one login, answered -40404
    await waitFor(() => /blocks logins for another 1800 s/.test(String((reported('heater')?.error as { message?: string } | undefined)?.message)), 'blocked reported');
    expect(logins()).toBe(6);
    expect(reported('heater')!.error).toMatchObject({ code: 'TPLINK_AUTH' });

    now += 600_000;
    ask('while-blocked');
    await waitFor(() => lastRequest('heater')?.requestId === 'while-blocked', 'request answered');
    expect(lastRequest('heater')).toMatchObject({ outcome: 'failed', error: { code: 'TPLINK_AUTH' } });
    expect(lastRequest('heater')!.error!.message).toMatch(/for another 1200 s \(about 20 min\).*no login tried/);
    expect(logins()).toBe(6);

    now += 1_200_000;
    ask('after-block');
    await waitFor(() => lastRequest('heater')?.requestId === 'after-block', 'request answered');
    expect(logins()).toBe(7);
    expect(lastRequest('heater')!.error!.message).toMatch(/refused login_device/);
  });

  it('after a restart goes straight to each plug by the remembered kind: no XOR or KLAP probe the second time', async () => {
    const hs103 = await device('hs103-klap2');
    const p100 = await device('p100-aes');
    const plugs = [plug('fan', hs103), plug('heater', p100)];
    await start(plugs);
    await waitFor(() => reported('fan')?.online === true && reported('heater')?.online === true, 'first run reported');
    // Detection probed: an XOR request (not HTTP) at both, a KLAP handshake at the AES device.
    expect(hs103.server.stats.notHttp).toBeGreaterThan(0);
    expect(p100.server.stats.notFound).toBeGreaterThan(0);
    await agent!.close();
    agent = undefined;
    expect(Object.values(detected()).map((k) => k.transport).sort()).toEqual(['aes', 'klap']);

    const before = [hs103, p100].map((d) => ({ ...d.server.stats }));
    events.length = 0;
    await start(plugs);
    await waitFor(() => ['fan', 'heater'].every((id) => events.some((e) => e.plugId === id && e.kind === 'polled')), 'second run polled both');
    const after = [hs103, p100].map((d) => d.server.stats);
    for (const [i, d] of after.entries()) {
      expect(d.notHttp).toBe(before[i]!.notHttp);
      expect(d.notFound).toBe(before[i]!.notFound);
      // A new process has no session yet: one handshake each, then its requests.
      expect(d.handshakes - before[i]!.handshakes).toBe(1);
    }
  });

  it('detects a plug again when its remembered kind stops working (a firmware update moved it from KLAP to AES), and remembers the new kind', async () => {
    const p100 = await device('p100-aes');
    mkdirSync(join(h.dir, 'state'), { recursive: true });
    const stale = { format: 1, devices: { [`127.0.0.1:${p100.port}`]: { transport: 'klap', family: 'smart', port: p100.port, version: 2 } } };
    writeFileSync(detectionFile(), JSON.stringify(stale));
    await start([plug('heater', p100)]);
    await waitFor(() => reported('heater')?.online === true, 'reported');
    await waitFor(() => detected()[`127.0.0.1:${p100.port}`]?.transport === 'aes', 'the new kind written');
    request('heater', 'on', 'heater-on');
    await waitFor(() => lastRequest('heater')?.outcome === 'applied', 'switched');
    expect(p100.states()).toEqual([true]);
  });

  it('reaches a plug still on the default (setup) credentials when no account is given, as python-kasa does', async () => {
    const fresh = await device('hs103-klap2', KASA_DEFAULT_CREDENTIALS);
    await start([plug('fan', fresh)], undefined);
    await waitFor(() => reported('fan')?.online === true, 'reported');
    request('fan', 'on', 'fan-on');
    await waitFor(() => lastRequest('fan')?.outcome === 'applied', 'switched');
    expect(fresh.states()).toEqual([true]);
  });

  it('takes the account from --tplink-credentials-file in `shadowplug agent` (its own process), and refuses the file when others may read it', async () => {
    const p110 = await device('p110-klap');
    const file = join(h.dir, 'tplink.txt');
    writeFileSync(file, `${account.username}\n${account.password}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const o = h.agentOptions();
    const args = [
      'agent', '--endpoint', `${o.endpoint}:${o.port}`, '--cert', o.cert, '--key', o.key, '--ca-file', o.caFile!, '--thing-name', o.thingName,
      '--credential-endpoint', o.credentialEndpoint!, '--s3-endpoint', o.s3Endpoint!, '--region', o.region!, '--dest', o.dest, '--state-dir', o.stateDir!,
      '--plugs', `kettle@hub-2=${p110.host}:${p110.port}`, '--tplink-credentials-file', file, '--json',
    ];
    const refused = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`may be read by group or others (mode 0644); run chmod 600 ${file}`);

    chmodSync(file, 0o600);
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      await waitFor(() => reported('kettle')?.online === true, 'the P110 reported by the agent process', 30_000);
      expect(reported('kettle')).toMatchObject({ model: 'P110', alias: 'Kettle' });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(stderr).not.toContain(account.password);
  }, 90_000);

  it('uses the protocol a plug is configured with instead of detecting it', async () => {
    const p110 = await device('p110-klap');
    await start([plug('kettle', p110, { protocol: 'klap', family: 'smart' })]);
    await waitFor(() => reported('kettle')?.online === true, 'reported');
    expect(p110.server.stats.notHttp).toBe(0);
    request('kettle', 'on', 'kettle-on');
    await waitFor(() => lastRequest('kettle')?.outcome === 'applied', 'switched');
    expect(p110.states()).toEqual([true]);
  });
});
