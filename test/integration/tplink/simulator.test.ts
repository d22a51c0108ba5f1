import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { plugAction } from '../../../core/tplink/operations';
import { Plug } from '../../../core/tplink/plug';
import { TplinkChildNotFoundError, TplinkDeviceError } from '../../../core/tplink/errors';

let sim: SimulatedPlug | undefined;

afterEach(async () => {
  if (sim) {
    expect(sim.errors).toEqual([]);
    await sim.stop();
  }
  sim = undefined;
});

async function start(model: string): Promise<SimulatedPlug> {
  sim = await startSimulatedPlug(model);
  return sim;
}

/** The device's state as a fresh client sees it (the simulator's meters change at every read: left out). */
async function query(s: SimulatedPlug) {
  const status = (await plugAction(s.address, 'status')).before;
  delete status.energy;
  for (const child of status.children ?? []) delete child.energy;
  return status;
}

describe.each(['hs100', 'hs110'])('%s', (model) => {
  it('reports status with model, alias and relay state', async () => {
    const s = await start(model);
    const { before, after, changed } = await plugAction(s.address, 'status');
    expect(before).toMatchObject({ host: '127.0.0.1', port: s.port, alias: `Mock ${model}`, relayState: 0 });
    expect(before.model).toMatch(new RegExp(`^${model}`, 'i'));
    expect(before.deviceId).toMatch(/^[0-9A-F]{40}$/);
    expect(before.children).toBeUndefined();
    expect(after).toEqual(before);
    expect(changed).toBe(false);
  });

  it('switches on and off', async () => {
    const s = await start(model);
    const on = await plugAction(s.address, 'on');
    expect(on).toMatchObject({ changed: true, before: { relayState: 0 }, after: { relayState: 1 } });
    expect((await query(s)).relayState).toBe(1);

    const again = await plugAction(s.address, 'on');
    expect(again).toMatchObject({ changed: false, after: { relayState: 1 } });

    const off = await plugAction(s.address, 'off');
    expect(off).toMatchObject({ changed: true, before: { relayState: 1 }, after: { relayState: 0 } });
    expect((await query(s)).relayState).toBe(0);
  });

  it('toggles, and the derived after-state matches the device', async () => {
    const s = await start(model);
    for (const expected of [1, 0, 1]) {
      const r = await plugAction(s.address, 'toggle');
      expect(r.after.relayState).toBe(expected);
      expect((await query(s)).relayState).toBe(expected);
    }
  });

  it('refuses a child on a plain plug', async () => {
    const s = await start(model);
    await expect(plugAction(s.address, 'on', { child: 0 })).rejects.toBeInstanceOf(TplinkChildNotFoundError);
    expect((await query(s)).relayState).toBe(0);
  });
});

describe('hs300 strip', () => {
  it('lists six outlets with ids ending 00..05', async () => {
    const s = await start('hs300');
    const status = await query(s);
    expect(status.relayState).toBeUndefined();
    expect(status.children?.map((c) => c.id.slice(-2))).toEqual(['00', '01', '02', '03', '04', '05']);
    expect(status.children?.every((c) => c.id.startsWith(status.deviceId))).toBe(true);
  });

  it('toggling one outlet leaves the other five unchanged', async () => {
    const s = await start('hs300');
    await plugAction(s.address, 'on', { child: '01' });
    await plugAction(s.address, 'on', { child: 4 });
    const before = await query(s);
    const r = await plugAction(s.address, 'toggle', { child: 2 });
    expect(r.child).toMatchObject({ index: 2, state: 1 });
    const after = await query(s);
    expect(after.children?.map((c) => c.state)).toEqual([0, 1, 1, 0, 1, 0]);
    expect(after.children?.filter((c) => c.index !== 2)).toEqual(before.children?.filter((c) => c.index !== 2));
    expect(r.after).toEqual(after);
  });

  it('selects an outlet by full id, by suffix and by index', async () => {
    const s = await start('hs300');
    const { children } = await query(s);
    await plugAction(s.address, 'on', { child: children![5]!.id });
    await plugAction(s.address, 'on', { child: '03' });
    await plugAction(s.address, 'on', { child: '0' });
    expect((await query(s)).children?.map((c) => c.state)).toEqual([1, 0, 0, 1, 0, 1]);
  });

  it('toggles the whole strip: any outlet on → all off, else all on', async () => {
    const s = await start('hs300');
    const allOn = await plugAction(s.address, 'toggle');
    expect(allOn.after.children?.map((c) => c.state)).toEqual([1, 1, 1, 1, 1, 1]);
    expect((await query(s)).children?.map((c) => c.state)).toEqual([1, 1, 1, 1, 1, 1]);
    await plugAction(s.address, 'off', { child: 1 });
    const allOff = await plugAction(s.address, 'toggle');
    expect(allOff.after.children?.map((c) => c.state)).toEqual([0, 0, 0, 0, 0, 0]);
    expect((await query(s)).children?.map((c) => c.state)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('turns an unknown full child id into the device error -14', async () => {
    const s = await start('hs300');
    const plug = new Plug(s);
    try {
      const err = await plug.setPower(true, { child: 'NOPE00000000000000000000000000000000000042' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TplinkDeviceError);
      expect(err).toMatchObject({ errCode: -14, errMsg: 'entry not exist', retryable: false });
    } finally {
      await plug.close();
    }
  });

  it('queries and sets on one connection', async () => {
    const s = await start('hs300');
    let connections = 0;
    s.device.deviceNetworking.server?.on('connection', () => connections++);
    await plugAction(s.address, 'toggle', { child: 5 });
    expect(connections).toBe(1);
  });
});
