/**
 * The device kinds beyond plain plugs, as their firmware answers: Kasa meters (HS110 in W/V/A/kWh,
 * HS110 v2 in mW/mV/mA/Wh, each HS300 outlet), Kasa bulbs and light strips (no relay: their
 * lighting module), and a Tapo strip switched whole (no relay of its own: each outlet through
 * `control_child`). Against tplink-smarthome-simulator over XOR and our KLAP simulator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plugAction } from '../../../core/tplink/operations';
import { DetectionCache } from '../../../core/tplink/connect';
import { SessionCache } from '../../../core/tplink/session-transport';
import { startSimulatedDevice, type SimulatedDevice } from '../../../sandbox/plugs/simulated-devices';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { kasa } from '../../helpers/python-peer';

let sim: SimulatedPlug | undefined;
let device: SimulatedDevice | undefined;
afterEach(async () => {
  if (sim) expect(sim.errors).toEqual([]);
  await sim?.stop();
  await device?.close();
  sim = undefined;
  device = undefined;
});

/** The simulator's own realtime meter, as it keeps it (W/V/A/kWh whatever it answers in). */
function simRealtime(s: SimulatedPlug): { power: number; voltage: number; current: number; total: number } {
  const d = s.device as unknown as { data: { emeter: { realtime: { power: number; voltage: number; current: number; total: number } } } };
  return d.data.emeter.realtime;
}

describe('Kasa meters in `status`', () => {
  it.each(['hs110', 'hs110v2'])('%s: power, voltage, current and total in W, V, A and kWh whichever units the firmware answers in', async (model) => {
    sim = await startSimulatedPlug(model);
    const { after } = await plugAction(sim.address, 'status');
    const rt = simRealtime(sim);
    expect(after.energy).toBeDefined();
    expect(after.energy!.powerW).toBeCloseTo(rt.power, 2);
    expect(after.energy!.voltageV).toBeCloseTo(rt.voltage, 2);
    expect(after.energy!.currentA).toBeCloseTo(rt.current, 2);
    expect(after.energy!.totalKwh).toBeCloseTo(rt.total, 2);
  });

  it('hs100: no meter, no energy', async () => {
    sim = await startSimulatedPlug('hs100');
    expect((await plugAction(sim.address, 'status')).after.energy).toBeUndefined();
  });

  it("hs300: each outlet's own meter, asked with the outlet's context", async () => {
    sim = await startSimulatedPlug('hs300');
    const { after } = await plugAction(sim.address, 'status');
    expect(after.children).toHaveLength(6);
    for (const child of after.children!) {
      expect(child.energy, child.id).toMatchObject({ powerW: expect.any(Number) as unknown, voltageV: expect.any(Number) as unknown });
    }
    // Switching reads no meter: a reading taken before the switch would be stale after it.
    const on = await plugAction(sim.address, 'on', { child: 1 });
    expect(on.after.children!.every((c) => c.energy === undefined)).toBe(true);
  });

  it('python-kasa reads the same power from the simulated HS110 in both unit styles', async () => {
    for (const model of ['hs110', 'hs110v2']) {
      const s = await startSimulatedPlug(model);
      try {
        const r = await kasa(['--host', s.host, '--port', String(s.port), '--device-family', 'IOT.SMARTPLUGSWITCH', '--timeout', '10', 'state']);
        expect(r.code, r.stderr).toBe(0);
        const watts = /Current consumption.*?([\d.]+)\s*W/i.exec(r.stdout);
        expect(watts, r.stdout).not.toBeNull();
        const ours = (await plugAction(s.address, 'status')).after.energy!.powerW!;
        expect(Number(watts![1])).toBeCloseTo(ours, 1);
      } finally {
        await s.stop();
      }
    }
  }, 120_000);
});

describe('Kasa bulbs and light strips', () => {
  it.each([
    ['lb100', undefined],
    ['lb130', undefined],
    ['kl430', 'lightstrip'],
  ] as const)('%s: reads light_state.on_off and switches through its lighting module', async (model, kind) => {
    sim = await startSimulatedPlug(model);
    const before = (await plugAction(sim.address, 'status')).after;
    expect(before.relayState).toBe(0);
    expect(before.light).toBe(kind ?? 'bulb');
    const on = await plugAction(sim.address, 'toggle');
    expect(on).toMatchObject({ changed: true, after: { relayState: 1 } });
    expect((await plugAction(sim.address, 'status')).after.relayState).toBe(1);
    await plugAction(sim.address, 'off');
    expect((await plugAction(sim.address, 'status')).after.relayState).toBe(0);
  });

  it.each(['lb130', 'kl430'])('%s: python-kasa switches it on, we read it on (with its meter), switch it off, python-kasa reads it off', async (model) => {
    sim = await startSimulatedPlug(model);
    const args = ['--host', sim.host, '--port', String(sim.port), '--device-family', 'IOT.SMARTBULB', '--timeout', '10'];
    const on = await kasa([...args, 'on']);
    expect(on.code, on.stderr).toBe(0);
    const read = (await plugAction(sim.address, 'status')).after;
    expect(read).toMatchObject({ relayState: 1, energy: { powerW: expect.any(Number) as unknown } });
    await plugAction(sim.address, 'off');
    const state = await kasa([...args, 'state']);
    expect(state.code, state.stderr).toBe(0);
    expect(state.stdout).toMatch(/Device state: False/);
  }, 60_000);
});

describe('Tapo strips switched whole', () => {
  const credentials = { username: 'owner@example.com', password: 'correct horse battery' };

  it.each(['p300-klap', 'p304m-klap'] as const)('%s: on, toggle and off switch every outlet through control_child', async (kind) => {
    device = await startSimulatedDevice(kind, { credentials });
    const options = { credentials, detection: new DetectionCache(), sessions: new SessionCache() };
    const address = { host: device.host, port: device.port };
    const all = (on: boolean) => device!.states().map(() => on);
    const on = await plugAction(address, 'on', options);
    expect(device.states()).toEqual(all(true));
    expect(on.after.children!.map((c) => c.state)).toEqual(all(true).map(() => 1));
    await plugAction(address, 'toggle', options);
    expect(device.states()).toEqual(all(false));
    await plugAction(address, 'toggle', options);
    expect(device.states()).toEqual(all(true));
    await plugAction(address, 'off', options);
    expect(device.states()).toEqual(all(false));
  });
});
