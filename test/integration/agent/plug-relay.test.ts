/**
 * The agent's plug capability end to end: the IoT Core stand-in over mutual TLS (with the device
 * policy allowing the hub's `plug-*` shadows), the agent, and tplink-smarthome-simulator plugs on
 * 127.0.0.1. Requests are written into the plug shadow as the button function writes them.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../../agent/agent';
import type { PlugEvent } from '../../../agent/plug-relay';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { plugShadowName } from '../../../core/plug-relay/contract';
import type { PlugConfig } from '../../../core/plug-relay/config';
import { Plug } from '../../../core/tplink';
import { startAgentHarness, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { startTcpProxy, type TcpProxy } from '../../helpers/agent-tcp-proxy';
import { ManualTimers } from '../../helpers/manual-timers';
import { startFaultPlug } from '../../helpers/fault-plug';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';

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
    expect(lastRequest('lamp')!.outcome).toBe('applied');
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
      { id: 'junk', hub: 'hub-1', host: junk.host, port: junk.port },
      { id: 'lamp', hub: 'hub-1', host: lamp.host, port: lamp.port },
    ]);
    await waitFor(() => reported('junk')?.reported?.online === false, 'junk plug reported offline');
    expect((reported('junk')!.reported!.error as { code: string }).code).toBe('TPLINK_PROTOCOL');
    request('lamp', 'on', 'still-served');
    await waitFor(() => lastRequest('lamp')?.requestId === 'still-served', 'the other plug served');
    expect(lastRequest('lamp')!.outcome).toBe('applied');
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
