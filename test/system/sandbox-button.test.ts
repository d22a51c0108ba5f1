/**
 * The button flow of the sandbox, driven as a user (or a real IoT button) would: a click is
 * published over MQTT/TLS with the button's own certificate on `iotbutton/<serial>`; the local
 * topic rule runs the real button Lambda, which switches the simulated plug over TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Plug } from '../../core/tplink/plug';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { portIsClosed, publishClick, sandboxPorts } from '../helpers/sandbox-harness';

/** The relay as any TP-Link client sees it over the local protocol. */
async function relayOverTcp(sandbox: Sandbox): Promise<{ relayState?: number; children?: { state: number }[] }> {
  const plug = new Plug({ host: sandbox.info.plug.host, port: sandbox.info.plug.port });
  try {
    return await plug.status();
  } finally {
    await plug.close();
  }
}

describe.each(['relay', 'direct'] as const)('sandbox (--plug-mode %s): a click switches the plug', (plugMode) => {
  let dir: string;
  let sandbox: Sandbox;
  const events: SandboxEvent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-button-'));
    sandbox = await startSandbox({ dir, clickActions: 'DOUBLE=on,LONG=off', plugMode });
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
  });
  afterAll(async () => {
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with the simulated HS100 off', async () => {
    expect(sandbox.info.plug).toMatchObject({ host: '127.0.0.1', simulated: true, model: 'HS100' });
    expect((await relayOverTcp(sandbox)).relayState).toBe(0);
  });

  it('a SINGLE click turns it on and a second SINGLE click turns it back off', async () => {
    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => s.relayState === 1);
    expect((await relayOverTcp(sandbox)).relayState).toBe(1);

    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => s.relayState === 0);
    expect((await relayOverTcp(sandbox)).relayState).toBe(0);
  });

  it('DOUBLE is mapped to "on" (twice stays on) and LONG to "off"', async () => {
    await publishClick(sandbox.info, 'DOUBLE');
    await sandbox.waitForPlug((s) => s.relayState === 1);
    const before = events.filter((e) => e.type === 'click-done').length;
    await publishClick(sandbox.info, 'DOUBLE');
    // The second DOUBLE is handled (a click-done event) and leaves the plug on.
    await new Promise<void>((resolve) => {
      const check = () => events.filter((e) => e.type === 'click-done').length > before && resolve();
      sandbox.events.on('event', check);
      check();
    });
    expect((await relayOverTcp(sandbox)).relayState).toBe(1);

    await publishClick(sandbox.info, 'LONG');
    await sandbox.waitForPlug((s) => s.relayState === 0);
    expect((await relayOverTcp(sandbox)).relayState).toBe(0);
  });

  it('lists its plug in the ready info: relay through plug-lamp on the first thing, or direct; its kind and protocol', () => {
    const thing = sandbox.info.things[0]!.name;
    const kind = { kind: 'hs100', protocol: 'xor', family: 'iot', model: 'HS100' };
    expect(sandbox.info.plugs).toEqual([
      plugMode === 'relay'
        ? { id: 'lamp', host: '127.0.0.1', port: sandbox.info.plug.port, thing, shadowName: 'plug-lamp', mode: 'relay', ...kind }
        : { id: 'lamp', host: '127.0.0.1', port: sandbox.info.plug.port, thing: null, shadowName: null, mode: 'direct', ...kind },
    ]);
  });

  /** Every click so far handled (in relay mode the plug changes before the handler has read the hub's answer). */
  const clicksSettled = () =>
    new Promise<void>((resolve) => {
      const check = () => {
        const open = events.filter((e) => e.type === 'click').length - events.filter((e) => e.type === 'click-done' || e.type === 'click-failed').length;
        if (open > 0) return;
        sandbox.events.off('event', check);
        resolve();
      };
      sandbox.events.on('event', check);
      check();
    });

  it('narrates each click and each plug change as events', async () => {
    // Its own click from a known state, so it holds in any test order.
    await clicksSettled();
    const from = events.length;
    const wasOn = (await relayOverTcp(sandbox)).relayState === 1;
    const narrated = () => {
      const mine = events.slice(from);
      return mine.some((e) => e.type === 'click-done') && mine.some((e) => e.type === 'plug');
    };
    const told = new Promise<void>((resolve) => {
      const check = () => narrated() && (sandbox.events.off('event', check), resolve());
      sandbox.events.on('event', check);
      check();
    });
    await publishClick(sandbox.info, 'SINGLE');
    await told;
    const mine = events.slice(from);
    expect(mine.map((e) => e.type)).toContain('click');
    const done = mine.filter((e): e is Extract<SandboxEvent, { type: 'click-done' }> => e.type === 'click-done');
    expect(done[0]).toMatchObject({ serial: sandbox.info.button.serial, clickType: 'SINGLE' });
    expect(done[0]!.summary).toMatch(wasOn ? /ON→OFF/ : /OFF→ON/);
    // Relay mode narrates the hub's hop too: the request answered in the plug's shadow.
    if (plugMode === 'relay') {
      expect(mine).toContainEqual(expect.objectContaining({ type: 'plug-desired', shadowName: 'plug-lamp', power: wasOn ? 'off' : 'on' }));
      expect(mine).toContainEqual(expect.objectContaining({ type: 'plug-request', plugId: 'lamp', outcome: 'applied' }));
    }
    // Leave the plug as the test found it.
    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => s.relayState === (wasOn ? 1 : 0));
    await clicksSettled();
  });

  it('the button identity may publish on its own topic only: a click on another serial\'s topic is dropped', async () => {
    const { default: mqtt } = await import('mqtt');
    const { readFileSync } = await import('node:fs');
    const client = await mqtt.connectAsync({
      protocol: 'mqtts',
      host: sandbox.info.mqtt.host,
      port: sandbox.info.mqtt.port,
      clientId: sandbox.info.button.clientId,
      cert: readFileSync(sandbox.info.button.cert),
      key: readFileSync(sandbox.info.button.key),
      ca: readFileSync(sandbox.info.ca),
      reconnectPeriod: 0,
    });
    const clicks = events.filter((e) => e.type === 'click').length;
    // The broker answers a publish outside the policy by closing the connection (as IoT Core does);
    // one it accepts is acknowledged (QoS 1). Either way the broker has decided: no window to wait out.
    const closed = new Promise<'closed by the broker'>((resolve) => client.once('close', () => resolve('closed by the broker')));
    const acknowledged = client
      .publishAsync('iotbutton/SOMEONEELSE', JSON.stringify({ serialNumber: 'SOMEONEELSE', clickType: 'SINGLE' }), { qos: 1 })
      .then(() => 'acknowledged' as const, () => new Promise<never>(() => {}));
    try {
      expect(await Promise.race([closed, acknowledged])).toBe('closed by the broker');
    } finally {
      await client.endAsync(true).catch(() => undefined);
    }
    // Refused, so it never reached the rule: no click narrated, the plug untouched.
    expect(events.filter((e) => e.type === 'click').length).toBe(clicks);
    expect((await relayOverTcp(sandbox)).relayState).toBe(0);
  });
});

describe.each(['relay', 'direct'] as const)('sandbox --strip --plug-mode %s: a click switches the whole HS300', (plugMode) => {
  it('toggles all six outlets on, then off, and closes every port it opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-strip-'));
    const sandbox = await startSandbox({ dir, strip: true, plugMode });
    try {
      expect(sandbox.info.plug.model).toBe('HS300');
      await publishClick(sandbox.info, 'SINGLE');
      const on = await sandbox.waitForPlug((s) => (s.children ?? []).every((c) => c.state === 1));
      expect(on.children).toHaveLength(6);
      await publishClick(sandbox.info, 'SINGLE');
      await sandbox.waitForPlug((s) => (s.children ?? []).every((c) => c.state === 0));
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
    for (const port of sandboxPorts(sandbox.info)) expect(await portIsClosed(port)).toBe(true);
  });
});

describe('sandbox relay mode: the plug shadow follows the plug', () => {
  it('a switch made at the plug itself shows in reported at the hub’s next poll', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-relay-'));
    const sandbox = await startSandbox({ dir, plugPollMs: 200 });
    try {
      const thing = sandbox.info.things[0]!.name;
      const plug = new Plug({ host: sandbox.info.plug.host, port: sandbox.info.plug.port });
      try {
        await plug.setPower(true);
      } finally {
        await plug.close();
      }
      const { waitFor } = await import('../helpers/sandbox-harness');
      const power = await waitFor('reported power on', async () => {
        const doc = (await sandbox.namedShadow(thing, 'plug-lamp')) as { state?: { reported?: { power?: string } } } | undefined;
        return doc?.state?.reported?.power === 'on' ? 'on' : undefined;
      }, 5_000);
      expect(power).toBe('on');
    } finally {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
