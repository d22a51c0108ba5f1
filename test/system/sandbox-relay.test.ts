/**
 * The plug relay end to end through `startSandbox`, over the real paths: a click published over
 * MQTT/TLS with the button's certificate → the local topic rule → the real button Lambda →
 * the data-plane API → the plug shadow `plug-<id>` → MQTT/mTLS → the hub's real agent → the
 * simulated plug over its own protocol → `reported` → the outcome on the SNS stand-in.
 * Each test starts its own sandbox (port 0 everywhere) and closes it; polls are fired by hand.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ruleEvent } from '../../core/button/click';
import { Plug } from '../../core/tplink/plug';
import type { SandboxEvent } from '../../sandbox/event-log';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox';
import { isOn } from '../../sandbox/sandbox-plug';
import { startSimulatedDevice } from '../../sandbox/plugs/simulated-devices';
import { ManualTimers } from '../helpers/manual-timers';
import { portIsClosed, publishClick, sandboxPorts, waitFor } from '../helpers/sandbox-harness';

interface Reported {
  power?: string;
  online?: boolean;
  lastRequest?: { requestId: string; outcome: string; error?: { code: string; message: string } };
  error?: { code: string; message: string } | null;
}
type PlugDoc = { state?: { reported?: Reported; desired?: { requestId?: string } } };

let dir: string | undefined;
let sandbox: Sandbox | undefined;
let events: SandboxEvent[] = [];
const timers = () => new ManualTimers();

async function start(options: SandboxOptions): Promise<Sandbox> {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-relay-'));
  events = [];
  sandbox = await startSandbox({ dir, ...options });
  sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
  return sandbox;
}

afterEach(async () => {
  const ports = sandbox ? sandboxPorts(sandbox.info).concat((sandbox.info.plugs ?? []).map((p) => p.port)) : [];
  await sandbox?.close();
  for (const port of ports) expect(await portIsClosed(port)).toBe(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
  sandbox = undefined;
  dir = undefined;
});

const reported = (s: Sandbox, id: string, predicate: (r: Reported) => boolean) =>
  s.waitForPlugShadow(id, (doc) => predicate((doc as PlugDoc).state?.reported ?? {}), 10_000).then((doc) => (doc as PlugDoc).state!.reported!);

/** Every plug's first report (the button decides from `reported.power`). */
async function firstReports(s: Sandbox): Promise<void> {
  for (const p of s.info.plugs ?? []) await reported(s, p.id, (r) => r.power !== undefined);
}

/** The next click's narration: its request id and, once handled, its summary. */
async function clickDone(after: number): Promise<{ requestId: string; summary: string }> {
  return waitFor('the click to be handled', () => {
    const click = events.slice(after).find((e) => e.type === 'click');
    const done = events.slice(after).find((e) => e.type === 'click-done');
    return click?.type === 'click' && done?.type === 'click-done' ? { requestId: click.requestId, summary: done.summary } : undefined;
  });
}

const notifications = (after = 0) => events.slice(after).flatMap((e) => (e.type === 'notification' ? [e] : []));

describe('sandbox relay: several plugs of several kinds on two hubs', () => {
  it('one click switches two plugs and a strip outlet on, the next switches them back off; each hop narrated per plug', async () => {
    const s = await start({ devices: 2, plugs: ['lamp=hs100', 'fan@shadowplug-device-2=hs110', 'desk=hs300#1'], plugTimers: timers() });
    const [thing1, thing2] = s.info.things.map((t) => t.name);
    expect(s.info.plugs).toEqual([
      { id: 'lamp', host: '127.0.0.1', port: expect.any(Number), thing: thing1, shadowName: 'plug-lamp', mode: 'relay', kind: 'hs100', protocol: 'xor', family: 'iot', model: 'HS100' },
      { id: 'fan', host: '127.0.0.1', port: expect.any(Number), thing: thing2, shadowName: 'plug-fan', mode: 'relay', kind: 'hs110', protocol: 'xor', family: 'iot', model: 'HS110' },
      { id: 'desk', host: '127.0.0.1', port: expect.any(Number), thing: thing1, shadowName: 'plug-desk', mode: 'relay', kind: 'hs300', protocol: 'xor', family: 'iot', outlet: 1, model: 'HS300' },
    ]);
    await firstReports(s);

    const before = events.length;
    await publishClick(s.info, 'SINGLE');
    await s.waitForPlug((st) => isOn(st), 10_000, 'lamp');
    await s.waitForPlug((st) => isOn(st), 10_000, 'fan');
    const desk = await s.waitForPlug((st) => isOn(st, 1), 10_000, 'desk');
    // Only outlet 1 of the strip: it is a plug of its own.
    expect(desk.children!.map((c) => c.state)).toEqual([0, 1, 0, 0, 0, 0]);
    const { requestId } = await clickDone(before);
    for (const id of ['lamp', 'fan', 'desk']) {
      expect(await reported(s, id, (r) => r.lastRequest?.requestId === requestId)).toMatchObject({ power: 'on', online: true, lastRequest: { requestId, outcome: 'applied' } });
    }
    // Each hop, per plug: the function's desired write, the hub's answer, the plug's change; then SNS.
    const after = events.slice(before);
    for (const [thing, id] of [[thing1, 'lamp'], [thing2, 'fan'], [thing1, 'desk']] as const) {
      expect(after).toContainEqual({ type: 'plug-desired', thing, shadowName: `plug-${id}`, power: 'on' });
      expect(after).toContainEqual(expect.objectContaining({ type: 'plug-request', thing, plugId: id, requestId, outcome: 'applied', power: 'on' }));
      expect(after).toContainEqual(expect.objectContaining({ type: 'plug', plugId: id }));
    }
    await waitFor('the outcome on SNS', () => notifications(before)[0]);
    expect(notifications(before)[0]).toMatchObject({ subject: 'shadowplug: 3 plugs on (SINGLE click)' });

    const second = events.length;
    await publishClick(s.info, 'SINGLE');
    for (const id of ['lamp', 'fan']) await s.waitForPlug((st) => st.relayState === 0, 10_000, id);
    await s.waitForPlug((st) => (st.children ?? []).every((c) => c.state === 0), 10_000, 'desk');
    await clickDone(second);
    await waitFor('the second outcome on SNS', () => notifications(second)[0]);
    expect(notifications(second)[0]!.subject).toBe('shadowplug: 3 plugs off (SINGLE click)');
  });

  it('a switch made at the plug itself shows in reported at the hub’s next poll', async () => {
    const polls = timers();
    const s = await start({ plugs: ['lamp=hs100', 'fan=hs110'], plugTimers: polls });
    await firstReports(s);
    const fan = s.info.plugs!.find((p) => p.id === 'fan')!;
    const client = new Plug({ host: fan.host, port: fan.port });
    try {
      await client.setPower(true);
    } finally {
      await client.close();
    }
    polls.tick(); // one poll interval
    expect(await reported(s, 'fan', (r) => r.power === 'on')).toMatchObject({ power: 'on', online: true });
    expect((await reported(s, 'lamp', () => true)).power).toBe('off');
  });
});

describe('sandbox relay: requests the hub must not or cannot apply', () => {
  it('agent stopped → click → agent back after the age limit: the lamp is unchanged and the request reported expired', async () => {
    const s = await start({ plugTimers: timers(), confirmTimeoutMs: 200 });
    const thing = s.info.things[0]!.name;
    await firstReports(s);
    await s.stopAgent(thing);

    const before = events.length;
    await publishClick(s.info, 'SINGLE');
    const { requestId, summary } = await clickDone(before);
    // The function wrote its request and said so, unconfirmed: nobody answered.
    expect(summary).toMatch(/toggle/);
    await s.waitForPlugShadow('lamp', (doc) => (doc as PlugDoc).state?.desired?.requestId === requestId);
    expect(notifications(before)[0]?.message).toMatch(/not yet confirmed/);

    // The hub comes back 31 s later by its clock, over the 30 s age limit.
    await s.startAgent(thing, { clock: () => Date.now() + 31_000 });
    const r = await reported(s, 'lamp', (x) => x.lastRequest?.requestId === requestId);
    expect(r).toMatchObject({ power: 'off', lastRequest: { requestId, outcome: 'expired', error: { code: 'PLUG_REQUEST_EXPIRED' } } });
    expect(isOn(await s.plugState('lamp'))).toBe(false);
    expect(events.slice(before)).toContainEqual(expect.objectContaining({ type: 'plug-request', plugId: 'lamp', requestId, outcome: 'expired' }));
    expect(events.slice(before).some((e) => e.type === 'plug')).toBe(false);
  });

  it('the same click event delivered twice to two fresh handler instances switches the plug once', async () => {
    const s = await start({ plugTimers: timers() });
    await firstReports(s);
    const event = ruleEvent({ serial: s.info.button.serial, clickType: 'SINGLE', requestId: randomUUID(), receivedAt: Date.now() });

    const first = await s.invokeButton(event, { freshInstance: true });
    expect(first.clicks[0]).toMatchObject({ status: 'done', power: true });
    const second = await s.invokeButton(event, { freshInstance: true });
    expect(second.clicks[0]).toMatchObject({ status: 'skipped', reason: 'duplicate' });

    expect(isOn(await s.plugState('lamp'))).toBe(true);
    expect(events.filter((e) => e.type === 'plug' && e.plugId === 'lamp')).toHaveLength(1);
  });

  it('the same event to two fresh instances at the same time switches the plug once', async () => {
    const s = await start({ plugTimers: timers() });
    await firstReports(s);
    const event = ruleEvent({ serial: s.info.button.serial, clickType: 'SINGLE', requestId: randomUUID(), receivedAt: Date.now() });
    const outcomes = await Promise.all([s.invokeButton(event, { freshInstance: true }), s.invokeButton(event, { freshInstance: true })]);
    expect(outcomes.every((o) => o.clicks[0]!.status !== 'failed')).toBe(true);
    expect(isOn(await s.plugState('lamp'))).toBe(true);
    expect(events.filter((e) => e.type === 'plug' && e.plugId === 'lamp')).toHaveLength(1);
  });

  it('plug unreachable → failed in the shadow and on SNS; it answers again → online at the next poll, and a click switches it', async () => {
    const polls = timers();
    const s = await start({ plugTimers: polls });
    await firstReports(s);
    await s.stopPlug('lamp');

    const before = events.length;
    await publishClick(s.info, 'SINGLE');
    const { requestId, summary } = await clickDone(before);
    expect(summary).toMatch(/^failed: /);
    const r = await reported(s, 'lamp', (x) => x.lastRequest?.requestId === requestId);
    expect(r).toMatchObject({ online: false, lastRequest: { requestId, outcome: 'failed', error: { code: 'TPLINK_CONNECTION_REFUSED' } } });
    await waitFor('the outcome on SNS', () => notifications(before)[0]);
    expect(notifications(before)[0]).toMatchObject({ subject: expect.stringMatching(/click failed/), message: expect.stringMatching(/TPLINK_CONNECTION_REFUSED|refused/) });

    await s.startPlug('lamp');
    polls.tick();
    expect(await reported(s, 'lamp', (x) => x.online === true)).toMatchObject({ online: true, power: 'off' });
    await publishClick(s.info, 'SINGLE');
    await s.waitForPlug((st) => isOn(st), 10_000, 'lamp');
  });
});

describe('sandbox relay: the newer kinds (KLAP v1/v2, AES; IOT and SMART) with the sandbox TP-Link account', () => {
  it('one click switches a Kasa plug on KLAP v1 and v2, a Tapo P110 (KLAP, metered), a P100 (AES) and outlet 1 of a P300 through their hubs, and back', async () => {
    const kinds = ['hall=hs100-klap1', 'desk=hs103-klap2', 'kettle=p110-klap', 'heater=p100-aes', 'tv=p300-klap#1'];
    const s = await start({ plugs: kinds, plugTimers: timers(), plugCredentials: { username: 'owner@example.com', password: 'pw-relay' } });
    expect(s.info.plugs!.map((p) => [p.id, p.protocol, p.family])).toEqual([
      ['hall', 'klap', 'iot'],
      ['desk', 'klap', 'iot'],
      ['kettle', 'klap', 'smart'],
      ['heater', 'aes', 'smart'],
      ['tv', 'klap', 'smart'],
    ]);
    await firstReports(s);
    // The P110's meter reaches its shadow too.
    expect(await reported(s, 'kettle', () => true)).toMatchObject({ online: true, model: 'P110', alias: 'Kettle', energy: { powerW: expect.any(Number), voltageV: expect.any(Number) } });

    const before = events.length;
    await publishClick(s.info, 'SINGLE');
    for (const id of ['hall', 'desk', 'kettle', 'heater']) await s.waitForPlug((st) => isOn(st), 10_000, id);
    const tv = await s.waitForPlug((st) => isOn(st, 1), 10_000, 'tv');
    expect(tv.children!.map((c) => c.state)).toEqual([0, 1, 0]);
    const { requestId } = await clickDone(before);
    for (const p of s.info.plugs!) {
      expect(await reported(s, p.id, (r) => r.lastRequest?.requestId === requestId)).toMatchObject({ power: 'on', online: true, lastRequest: { outcome: 'applied' } });
    }
    await waitFor('the outcome on SNS', () => notifications(before)[0]);
    expect(notifications(before)[0]!.subject).toBe('shadowplug: 5 plugs on (SINGLE click)');

    const second = events.length;
    await publishClick(s.info, 'SINGLE');
    for (const id of ['hall', 'desk', 'kettle', 'heater', 'tv']) await s.waitForPlug((st) => !isOn(st, id === 'tv' ? 1 : undefined), 10_000, id);
    await clickDone(second);
  });

  it('a plug given by address (its kind detected by the hub) that refuses the hub’s TP-Link account is offline with TPLINK_AUTH naming it', async () => {
    // A P110 bound to another account, started apart: the sandbox knows only its address.
    const device = await startSimulatedDevice('p110-klap', { credentials: { username: 'someone-else@example.com', password: 'theirs' } });
    try {
      const s = await start({ plugs: ['kettle=127.0.0.1:' + String(device.port)], plugTimers: timers() });
      expect(s.info.plugs![0]).toMatchObject({ id: 'kettle', kind: 'real', port: device.port });
      const r = await reported(s, 'kettle', (x) => x.online === false);
      expect(r.error).toMatchObject({ code: 'TPLINK_AUTH', message: expect.stringContaining(`127.0.0.1:${device.port}: authentication failed`) });
      expect(device.states()).toEqual([false]);
    } finally {
      await sandbox?.close();
      sandbox = undefined;
      await device.close();
    }
  });
});

describe('sandbox --plug-mode direct with the newer kinds', () => {
  it('the button function itself reaches a P110 on KLAP and an HS100 on XOR with the sandbox account, named by id', async () => {
    const s = await start({ plugMode: 'direct', plugs: ['lamp=hs100', 'kettle=p110-klap'] });
    expect(s.info.plugs!.map((p) => [p.id, p.mode, p.thing, p.shadowName])).toEqual([
      ['lamp', 'direct', null, null],
      ['kettle', 'direct', null, null],
    ]);
    const before = events.length;
    await publishClick(s.info, 'SINGLE');
    await s.waitForPlug((st) => isOn(st), 10_000, 'lamp');
    await s.waitForPlug((st) => isOn(st), 10_000, 'kettle');
    expect((await clickDone(before)).summary).toBe('toggle: sandbox plug OFF→ON, Kettle OFF→ON');
  });
});
