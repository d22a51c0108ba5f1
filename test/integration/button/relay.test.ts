/**
 * The relay path end to end, over the real paths of the sandbox's pieces: button handler →
 * IoT data-plane API (HTTPS, AWS SDK) → plug shadow `plug-<id>` on the hub → delta over MQTT/mTLS →
 * the hub's agent → tplink-smarthome-simulator plug over TCP → reported → the handler's outcome
 * and its SNS message.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { startAgent, type Agent } from '../../../agent/agent';
import { buttonFunctionEnvironment, parseButtonConfig } from '../../../core/button/config';
import { createRelayDriver } from '../../../core/button/relay-driver';
import type { PublishInput } from '../../../core/button/sns-publish';
import { CLASSIC_SHADOW, devicePolicy } from '../../../core/iot-policy/device-policy';
import { plugShadowName } from '../../../core/plug-relay/contract';
import type { PlugConfig } from '../../../core/plug-relay/config';
import { Plug } from '../../../core/tplink/plug';
import { silentLogger } from '../../../core/logger';
import { createHandler, type ButtonHandler } from '../../../lambda/button-click';
import { startAgentHarness, waitFor, type AgentHarness } from '../../helpers/agent-harness';
import { startTcpProxy, type TcpProxy } from '../../helpers/agent-tcp-proxy';
import { ruleClick } from '../../helpers/button-harness';
import { ManualTimers } from '../../helpers/manual-timers';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';

const SERIAL = 'G030JF0512345678';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:clicks';
const HUB = 'hub-1';

describe('button in relay mode: click → plug shadow → hub agent → plug', () => {
  let h: AgentHarness;
  let agent: Agent | undefined;
  let sdk: IoTDataPlaneClient;
  const timers = new ManualTimers();
  const sims: SimulatedPlug[] = [];
  const opened: { close(): Promise<void> }[] = [];
  const sent: PublishInput[] = [];

  beforeEach(async () => {
    h = await startAgentHarness({ iot: { devicePolicy: devicePolicy({ shadows: [CLASSIC_SHADOW, { kind: 'named-prefix', prefix: 'plug-' }] }) }, thing: HUB });
    sdk = h.iot.createDataPlaneClient();
    sent.length = 0;
  });
  afterEach(async () => {
    await agent?.close();
    agent = undefined;
    sdk.destroy();
    await Promise.all(opened.splice(0).map((o) => o.close()));
    await Promise.all(sims.splice(0).map((s) => s.stop()));
    await h.close();
  });

  async function sim(model = 'hs100'): Promise<SimulatedPlug> {
    const s = await startSimulatedPlug(model);
    sims.push(s);
    return s;
  }
  async function relayOn(s: { host: string; port: number }, child?: number): Promise<boolean> {
    const p = new Plug({ host: s.host, port: s.port });
    opened.push(p);
    const st = await p.status();
    return child === undefined ? st.relayState === 1 : st.children![child]!.state === 1;
  }
  async function startHub(plugs: PlugConfig[], clock?: () => number): Promise<void> {
    agent = await startAgent(h.agentOptions({ plugs, timers, ...(clock ? { clock } : {}), plugTimeouts: { connectTimeoutMs: 500, requestTimeoutMs: 1000 } }));
    await waitFor(() => plugs.every((p) => h.iot.shadows.get(HUB, plugShadowName(p.id)) !== undefined), 'the hub’s first reports');
  }
  /** A fresh handler instance (a new Lambda container), configured as the stack configures it. */
  function handler(plugs: PlugConfig[], targets = plugs, confirmTimeoutMs = 5_000): ButtonHandler {
    const env = buttonFunctionEnvironment({
      defaultTargets: targets.map((p) => p.id),
      plugMode: 'relay',
      plugs,
      confirmTimeoutMs,
      snsTopicArn: TOPIC,
    });
    const config = parseButtonConfig(env);
    return createHandler({
      config,
      logger: silentLogger,
      driver: createRelayDriver({ plugs: config.plugs, iotData: sdk, confirmTimeoutMs: config.confirmTimeoutMs, confirmPollMs: 20 }),
      publish: (input) => {
        sent.push(input);
        return Promise.resolve();
      },
    });
  }
  const plugAt = (id: string, s: { host: string; port: number }, child?: number): PlugConfig => ({ id, hub: HUB, host: s.host, port: s.port, ...(child === undefined ? {} : { child }) });

  it('a click toggles the plug on through its shadow, the next one back off, and SNS says applied', async () => {
    const lamp = await sim();
    const plugs = [plugAt('lamp', lamp)];
    await startHub(plugs);
    const click = handler(plugs);
    const first = await click(ruleClick(SERIAL));
    expect(first.clicks[0]).toMatchObject({ status: 'done', power: true, targets: [{ before: false, after: true, status: 'switched' }] });
    expect(first.clicks[0]!.targets[0]!.confirmed).toBeUndefined();
    expect(await relayOn(lamp)).toBe(true);
    expect(sent[0]!.message).toContain('off -> on');
    const second = await click(ruleClick(SERIAL));
    expect(second.clicks[0]).toMatchObject({ status: 'done', power: false });
    expect(await relayOn(lamp)).toBe(false);
  });

  it('switches two plugs and a strip outlet together, by today’s toggle rule', async () => {
    const a = await sim();
    const b = await sim();
    const strip = await sim('hs300');
    const plugs = [plugAt('a', a), plugAt('b', b), plugAt('outlet', strip, 2)];
    await startHub(plugs);
    const outcome = await handler(plugs)(ruleClick(SERIAL));
    expect(outcome.clicks[0]).toMatchObject({ status: 'done', power: true });
    expect([await relayOn(a), await relayOn(b), await relayOn(strip, 2), await relayOn(strip, 1)]).toEqual([true, true, true, false]);
  });

  it('the same click delivered to two fresh handler instances switches once', async () => {
    const lamp = await sim();
    const plugs = [plugAt('lamp', lamp)];
    await startHub(plugs);
    const event = ruleClick(SERIAL, 'SINGLE', { requestId: 'once-only' });
    const first = await handler(plugs)(event);
    const second = await handler(plugs)(event);
    expect(first.clicks[0]!.status).toBe('done');
    expect(second.clicks[0]).toMatchObject({ status: 'skipped', reason: 'duplicate' });
    expect(await relayOn(lamp)).toBe(true);
  });

  it('a click made while the hub is away is not applied when it comes back after the age limit: expired', async () => {
    const lamp = await sim();
    const plugs = [plugAt('lamp', lamp)];
    await startHub(plugs);
    await agent!.close();
    agent = undefined;
    const outcome = await handler(plugs, plugs, 300)(ruleClick(SERIAL, 'SINGLE', { requestId: 'while-away' }));
    expect(outcome.clicks[0]!.targets[0]).toMatchObject({ status: 'switched', confirmed: false });
    expect(sent[0]!.message).toContain('not yet confirmed');
    await startHub(plugs, () => Date.now() + 31_000);
    await waitFor(() => (h.iot.shadows.get(HUB, 'plug-lamp') as { state: { reported: { lastRequest?: { requestId: string } } } }).state.reported.lastRequest?.requestId === 'while-away', 'the late request answered');
    const last = (h.iot.shadows.get(HUB, 'plug-lamp') as { state: { reported: { lastRequest: unknown } } }).state.reported.lastRequest;
    expect(last).toMatchObject({ outcome: 'expired' });
    expect(await relayOn(lamp)).toBe(false);
  });

  it('an unreachable plug fails the click in the shadow and on SNS, and the next click works once it is back', async () => {
    const lamp = await sim();
    const path: TcpProxy = await startTcpProxy(lamp.port);
    opened.push(path);
    const plugs = [plugAt('lamp', { host: '127.0.0.1', port: path.port })];
    await startHub(plugs);
    path.refuse(true);
    path.cutAll();
    const failed = await handler(plugs)(ruleClick(SERIAL));
    expect(failed.clicks[0]!.status).toBe('failed');
    expect(sent[0]!.message).toMatch(/FAILED.*TPLINK_/);
    path.refuse(false);
    timers.tick();
    await waitFor(() => (h.iot.shadows.get(HUB, 'plug-lamp') as { state: { reported: { online: boolean } } }).state.reported.online, 'back online');
    const ok = await handler(plugs)(ruleClick(SERIAL));
    expect(ok.clicks[0]).toMatchObject({ status: 'done', power: true });
    expect(await relayOn(lamp)).toBe(true);
  });

  it('writes desired with the version it read: a concurrent write (409) makes it read again and write on the new version', async () => {
    const lamp = await sim();
    const plugs = [plugAt('lamp', lamp)];
    await startHub(plugs);
    const driver = createRelayDriver({ plugs, iotData: sdk, confirmPollMs: 20 });
    driver.begin({ requestId: 'after-conflict' });
    const target = { host: lamp.host, port: lamp.port };
    expect(await driver.read(target)).toMatchObject({ on: false });
    const other = h.iot.shadows.update(HUB, { state: { desired: { note: 'someone else' } } }, 'plug-lamp');
    expect(other.ok).toBe(true);
    expect(await driver.write(target, true)).toMatchObject({ on: true });
    expect(await relayOn(lamp)).toBe(true);
  });

  /** A plug shadow as a hub reports it, with no hub running: nobody answers requests. */
  function reportedOff(id: string): PlugConfig {
    const plug: PlugConfig = { id, hub: HUB, host: '192.0.2.10', port: 9999 };
    expect(h.iot.shadows.update(HUB, { state: { reported: { online: true, power: 'off', alias: 'Lamp' } } }, plugShadowName(id)).ok).toBe(true);
    return plug;
  }
  const desiredOf = (id: string) => (h.iot.shadows.get(HUB, plugShadowName(id)) as { state: { desired?: { requestId?: string } } }).state.desired;

  it('a click whose request a newer click replaced before the hub answered it is superseded, and SNS says so', async () => {
    const plugs = [reportedOff('lamp')];
    const click = handler(plugs)(ruleClick(SERIAL, 'SINGLE', { requestId: 'older' }));
    await waitFor(() => desiredOf('lamp')?.requestId === 'older', 'the older request in desired');
    expect(h.iot.shadows.update(HUB, { state: { desired: { power: 'on', requestId: 'newer', requestedAt: Date.now() } } }, 'plug-lamp').ok).toBe(true);
    const outcome = await click;
    expect(outcome.clicks[0]!.targets[0]).toMatchObject({ status: 'superseded', supersededBy: 'newer', after: true });
    expect(outcome.clicks[0]!.status).toBe('done');
    expect(sent[0]!.subject).toMatch(/Lamp: SINGLE click superseded by a newer one/);
    expect(sent[0]!.message).toMatch(/superseded by a newer click \(request newer\) before the hub acted on this one; the plug follows that one \(on\)/);
  });

  it('a click that meets a newer click’s request on a version conflict (409) is superseded at once, not written again', async () => {
    const plugs = [reportedOff('lamp')];
    const driver = createRelayDriver({ plugs, iotData: sdk, confirmPollMs: 20 });
    driver.begin({ requestId: 'older' });
    const target = { host: '192.0.2.10', port: 9999, plug: 'lamp' };
    expect(await driver.read(target)).toMatchObject({ on: false });
    expect(h.iot.shadows.update(HUB, { state: { desired: { power: 'on', requestId: 'newer', requestedAt: Date.now() } } }, 'plug-lamp').ok).toBe(true);
    expect(await driver.write(target, true)).toMatchObject({ on: true, supersededBy: 'newer' });
    expect(desiredOf('lamp')?.requestId).toBe('newer');
  });

  it('refuses at configuration a relay target that is no configured plug', () => {
    expect(() => buttonFunctionEnvironment({ defaultTargets: '10.0.0.9', plugMode: 'relay', plugs: 'lamp@hub-1=10.0.0.8' })).toThrow(/defaultTargets: 10\.0\.0\.9:9999 is not a configured plug \(configured: lamp\)/);
  });
});
