/**
 * The button handler against simulated TP-Link plugs on 127.0.0.1, over real TCP: every event
 * shape, every click mapping, several targets, strip outlets, and at-most-once delivery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plugAction } from '../../../core/tplink/operations';
import { startTcpProxy } from '../../helpers/agent-tcp-proxy';
import { at, buttonHarness, ruleClick, type ButtonHarness } from '../../helpers/button-harness';

let h: ButtonHarness;
afterEach(async () => {
  await h.close();
});

const SERIAL = 'G030JF0512345678';

describe('the button handler switches real plugs', () => {
  it('toggles a plug on a classic IoT button click, and back on the next', async () => {
    h = buttonHarness();
    const plug = await h.plug({ alias: 'Desk lamp' });
    const handler = h.handler({ defaultTargets: at(plug) });

    const first = await handler({ serialNumber: SERIAL, clickType: 'SINGLE', batteryVoltage: '1705mV' });
    expect(first.status).toBe('done');
    expect(first.clicks).toHaveLength(1);
    expect(first.clicks[0]).toMatchObject({
      serial: SERIAL,
      clickType: 'SINGLE',
      source: 'iot-button',
      action: 'toggle',
      status: 'done',
      power: true,
      targets: [{ target: at(plug), alias: 'Desk lamp', before: false, after: true, status: 'switched' }],
    });
    expect(plug.state().relayState).toBe(1);

    const second = await handler({ serialNumber: SERIAL, clickType: 'SINGLE', batteryVoltage: '1705mV' });
    expect(second.clicks[0]!.targets[0]).toMatchObject({ before: true, after: false });
    expect(plug.state().relayState).toBe(0);
  });

  it('acts on the rule-shaped event (requestId, receivedAt) and logs serial, click type, targets, outcome and elapsed ms', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const outcome = await h.handler({ defaultTargets: at(plug) })(ruleClick(SERIAL, 'DOUBLE', { requestId: 'r-1' }), { awsRequestId: 'aws-1' });
    expect(outcome.clicks[0]).toMatchObject({ requestId: 'r-1', status: 'done' });
    expect(plug.state().relayState).toBe(1);
    const line = h.logs.find((l) => l.message === 'click handled');
    expect(line).toMatchObject({ level: 'info', serial: SERIAL, clickType: 'DOUBLE', requestId: 'r-1', awsRequestId: 'aws-1', outcome: 'done' });
    expect(line!.targets).toEqual([expect.objectContaining({ target: at(plug), before: false, after: true, status: 'switched' })]);
    expect(typeof line!.elapsedMs).toBe('number');
  });

  it('acts on the IoT 1-Click shape', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const outcome = await h.handler({ defaultTargets: at(plug) })({
      deviceInfo: { deviceId: 'G030PM0123456789', type: 'button', remainingLife: 80 },
      deviceEvent: { buttonClicked: { clickType: 'LONG', reportedTime: new Date().toISOString() } },
      placementInfo: { projectName: 'home', placementName: 'hall' },
    });
    expect(outcome.clicks[0]).toMatchObject({ serial: 'G030PM0123456789', clickType: 'LONG', source: 'iot-1-click', status: 'done' });
    expect(plug.state().relayState).toBe(1);
  });

  it('acts on each click of an SNS-wrapped event, one record or many', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug) });
    const record = (id: string) => ({
      EventSource: 'aws:sns',
      Sns: { MessageId: id, Timestamp: new Date().toISOString(), Message: JSON.stringify({ serialNumber: SERIAL, clickType: 'SINGLE' }) },
    });

    const one = await handler({ Records: [record('m-1')] });
    expect(one.clicks.map((c) => [c.source, c.requestId, c.status])).toEqual([['sns', 'm-1', 'done']]);
    expect(plug.state().relayState).toBe(1);

    const two = await handler({ Records: [record('m-2'), record('m-3')] });
    expect(two.status).toBe('done');
    expect(two.clicks.map((c) => c.power)).toEqual([false, true]);
    expect(plug.state().relayState).toBe(1);

    // SNS redelivers with the same MessageId: not acted on again.
    const again = await handler({ Records: [record('m-3')] });
    expect(again.clicks[0]).toMatchObject({ status: 'skipped', reason: 'duplicate' });
    expect(plug.state().relayState).toBe(1);
  });
});

describe('click mapping and targets come from configuration', () => {
  it('maps SINGLE → on, DOUBLE → off, LONG → none', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug), clickActions: { SINGLE: 'on', DOUBLE: 'off', LONG: 'none' } });

    expect((await handler(ruleClick(SERIAL, 'SINGLE'))).clicks[0]!.targets[0]!.status).toBe('switched');
    expect(plug.state().relayState).toBe(1);
    const again = await handler(ruleClick(SERIAL, 'SINGLE'));
    expect(again.clicks[0]).toMatchObject({ status: 'done', power: true, targets: [{ status: 'unchanged', before: true, after: true }] });
    expect(plug.state().relayState).toBe(1);

    const long = await handler(ruleClick(SERIAL, 'LONG'));
    expect(long.clicks[0]).toMatchObject({ status: 'skipped', reason: 'action-none', targets: [] });
    expect(plug.state().relayState).toBe(1);

    await handler(ruleClick(SERIAL, 'DOUBLE'));
    expect(plug.state().relayState).toBe(0);
  });

  it('sends each serial to its own plug and the rest to the default', async () => {
    h = buttonHarness();
    const [hall, kitchen, fallback] = await Promise.all([h.plug(), h.plug(), h.plug()]);
    const handler = h.handler({ defaultTargets: at(fallback!), serialTargets: { HALL: at(hall!), KITCHEN: [at(kitchen!)] } });
    await handler(ruleClick('KITCHEN'));
    expect([hall!.state().relayState, kitchen!.state().relayState, fallback!.state().relayState]).toEqual([0, 1, 0]);
    await handler(ruleClick('SOMEONE-ELSE'));
    expect([hall!.state().relayState, kitchen!.state().relayState, fallback!.state().relayState]).toEqual([0, 1, 1]);
  });

  it('toggles several plugs together: any on → all off; else all on', async () => {
    h = buttonHarness();
    const [a, b] = await Promise.all([h.plug(), h.plug()]);
    await plugAction(at(a!), 'on');
    const handler = h.handler({ defaultTargets: [at(a!), at(b!)] });

    const off = await handler(ruleClick(SERIAL));
    expect(off.clicks[0]).toMatchObject({ power: false, status: 'done' });
    expect(off.clicks[0]!.targets.map((t) => [t.before, t.after, t.status])).toEqual([
      [true, false, 'switched'],
      [false, false, 'unchanged'],
    ]);
    expect([a!.state().relayState, b!.state().relayState]).toEqual([0, 0]);

    await handler(ruleClick(SERIAL));
    expect([a!.state().relayState, b!.state().relayState]).toEqual([1, 1]);
  });

  it('switches one outlet of a strip, or several outlets of the same strip together', async () => {
    h = buttonHarness();
    const strip = await h.plug({ strip: true });
    const states = () => strip.state().children!.map((c) => c.state);
    const before = states();
    expect(before).toEqual([0, 0, 0, 0, 0, 0]);

    const one = h.handler({ defaultTargets: at(strip, 2) });
    const outcome = await one(ruleClick(SERIAL));
    expect(outcome.clicks[0]!.targets[0]).toMatchObject({ target: at(strip, 2), child: 2, alias: strip.state().children![2]!.alias, after: true });
    expect(states()).toEqual([0, 0, 1, 0, 0, 0]);

    const pair = h.handler({ defaultTargets: [at(strip, 2), at(strip, 4)] });
    await pair(ruleClick(SERIAL)); // outlet 2 is on → both go off
    expect(states()).toEqual([0, 0, 0, 0, 0, 0]);
    await pair(ruleClick(SERIAL));
    expect(states()).toEqual([0, 0, 1, 0, 1, 0]);
  });
});

describe('connections to the plugs', () => {
  it('uses one connection per device for a whole click: two outlets of one strip share it, closed at the end', async () => {
    h = buttonHarness();
    const strip = await h.plug({ strip: true });
    // Counted at the plug's side: every connection to the strip passes the proxy.
    const proxy = await startTcpProxy(strip.port);
    try {
      const via = { host: '127.0.0.1', port: proxy.port };
      const outcome = await h.handler({ defaultTargets: [at(via, 1), at(via, 3)] })(ruleClick(SERIAL));
      expect(outcome.status).toBe('done');
      expect(strip.state().children!.map((c) => c.state)).toEqual([0, 1, 0, 1, 0, 0]);
      expect(proxy.connections).toBe(1);
    } finally {
      await proxy.close();
    }
  });
});

describe('a click is acted on at most once', () => {
  it('ignores a repeated requestId in the same warm container', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug) });
    const event = ruleClick(SERIAL, 'SINGLE', { requestId: 'same-id' });
    expect((await handler(event)).status).toBe('done');
    const repeat = await handler(event);
    expect(repeat.status).toBe('skipped');
    expect(repeat.clicks[0]).toMatchObject({ reason: 'duplicate', targets: [], notification: 'off' });
    expect(plug.state().relayState).toBe(1);
    expect(h.logs.some((l) => l.message === 'click not acted on' && l.reason === 'duplicate')).toBe(true);
  });

  it('does not act on a click received longer ago than the max age', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const now = 1_700_000_000_000;
    const handler = h.handler({ defaultTargets: at(plug), maxClickAgeSeconds: 30 }, { clock: () => now });
    const stale = await handler(ruleClick(SERIAL, 'SINGLE', { receivedAt: now - 31_000 }));
    expect(stale.clicks[0]).toMatchObject({ status: 'skipped', reason: 'stale' });
    expect(plug.state().relayState).toBe(0);
    const fresh = await handler(ruleClick(SERIAL, 'SINGLE', { receivedAt: now - 5_000 }));
    expect(fresh.status).toBe('done');
  });

  it('uses the injected clock for the age check', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug) }, { clock: () => 1_700_000_060_000 });
    const outcome = await handler(ruleClick(SERIAL, 'SINGLE', { receivedAt: 1_700_000_000_000 }));
    expect(outcome.clicks[0]!.reason).toBe('stale');
  });
});

describe('the handler never throws', () => {
  it('handles clicks that arrive together one after another, so two quick toggles cancel out', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    const handler = h.handler({ defaultTargets: at(plug) });
    const [a, b] = await Promise.all([handler(ruleClick(SERIAL)), handler(ruleClick(SERIAL))]);
    expect([a.clicks[0]!.power, b.clicks[0]!.power]).toEqual([true, false]);
    expect(plug.state().relayState).toBe(0);
  });

  it('turns an unexpected fault while handling a click into a failed outcome', async () => {
    h = buttonHarness();
    const plug = await h.plug();
    let calls = 0;
    const clock = () => {
      calls++;
      if (calls === 2) throw new Error('clock broke');
      return Date.now();
    };
    const outcome = await h.handler({ defaultTargets: at(plug) }, { clock })(ruleClick(SERIAL));
    expect(outcome.status).toBe('failed');
    expect(outcome.clicks[0]).toMatchObject({ status: 'failed', detail: 'clock broke', targets: [] });
    expect(h.logs.some((l) => l.message === 'click handling failed unexpectedly')).toBe(true);
    expect(plug.state().relayState).toBe(0);
  });
});
