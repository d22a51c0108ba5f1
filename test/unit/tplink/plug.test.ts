import { describe, expect, it } from 'vitest';
import { Plug } from '../../../core/tplink/plug';
import type { Transport } from '../../../core/tplink/transport';
import { TplinkDeviceError } from '../../../core/tplink/errors';

/**
 * An in-memory transport: proves the protocol layer needs nothing but `send` (a KLAP transport
 * will plug in the same way) and records what the Plug asked for.
 */
function recordingTransport(replies: unknown[]): Transport & { sent: unknown[]; closed: boolean } {
  const endpoint = { host: '10.0.0.9', port: 9999 };
  const t = {
    endpoint,
    sent: [] as unknown[],
    closed: false,
    async send(request: object) {
      t.sent.push(request);
      if (replies.length === 0) throw new Error('no reply left');
      return replies.shift();
    },
    async hold<T>(fn: () => Promise<T>) {
      return fn();
    },
    async close() {
      t.closed = true;
    },
  };
  return t;
}

const strip = {
  system: {
    get_sysinfo: {
      alias: 'Strip',
      model: 'KP303(UK)',
      deviceId: 'ABC',
      children: [
        { id: 'ABC00', alias: 'one', state: 0 },
        { id: 'ABC01', alias: 'two', state: 1 },
        { id: 'ABC02', alias: 'three', state: 0 },
      ],
      err_code: 0,
    },
  },
};
const ok = { system: { set_relay_state: { err_code: 0 } } };

describe('Plug over any Transport', () => {
  it('reports the status of a strip with the endpoint it was given', async () => {
    const t = recordingTransport([strip]);
    const plug = new Plug({ host: '10.0.0.9' }, { transport: t });
    const status = await plug.status({ energy: false });
    expect(status).toMatchObject({ host: '10.0.0.9', port: 9999, model: 'KP303(UK)', alias: 'Strip' });
    expect(status.children?.map((c) => c.state)).toEqual([0, 1, 0]);
    expect(t.sent).toEqual([{ system: { get_sysinfo: {} } }]);
  });

  it("reads each outlet's meter with the status, and stops at the first outlet without one", async () => {
    const metered = recordingTransport([strip, { emeter: { get_realtime: { power_mw: 5000, voltage_mv: 230_000, err_code: 0 } } }, { emeter: { get_realtime: { power: 2, voltage: 231, err_code: 0 } } }, { emeter: { get_realtime: { power: 0, err_code: 0 } } }]);
    const status = await new Plug({ host: '10.0.0.9' }, { transport: metered }).status();
    expect(status.children?.map((c) => c.energy)).toEqual([{ powerW: 5, voltageV: 230 }, { powerW: 2, voltageV: 231 }, { powerW: 0 }]);
    expect(metered.sent.slice(1)).toEqual(['ABC00', 'ABC01', 'ABC02'].map((id) => ({ context: { child_ids: [id] }, emeter: { get_realtime: {} } })));

    const kp303 = recordingTransport([strip, { emeter: { err_code: -1, err_msg: 'module not support' } }]);
    const plain = await new Plug({ host: '10.0.0.9' }, { transport: kp303 }).status();
    expect(plain.children?.every((c) => c.energy === undefined)).toBe(true);
    expect(kp303.sent).toHaveLength(2);
  });

  it("reads a plug's meter in the same request as its sysinfo, in either firmware's units", async () => {
    const hs110 = { system: { get_sysinfo: { alias: 'TV', model: 'HS110(EU)', deviceId: 'D', relay_state: 1, err_code: 0 } } };
    for (const [rt, expected] of [
      [{ power: 42.5, voltage: 230.1, current: 0.19, total: 7.25, err_code: 0 }, { powerW: 42.5, voltageV: 230.1, currentA: 0.19, totalKwh: 7.25 }],
      [{ power_mw: 42_500, voltage_mv: 230_100, current_ma: 190, total_wh: 7250, err_code: 0 }, { powerW: 42.5, voltageV: 230.1, currentA: 0.19, totalKwh: 7.25 }],
    ] as const) {
      const t = recordingTransport([{ ...hs110, emeter: { get_realtime: rt } }]);
      expect((await new Plug({ host: '10.0.0.9' }, { transport: t }).status()).energy).toEqual(expected);
      expect(t.sent).toHaveLength(1);
    }
  });

  it('switches a bulb through its lighting module and a light strip through its own', async () => {
    const bulb = { system: { get_sysinfo: { alias: 'Lamp', model: 'KL130(EU)', deviceId: 'B', light_state: { on_off: 0 }, err_code: 0 } } };
    const lightstrip = { system: { get_sysinfo: { alias: 'Shelf', model: 'KL430(US)', deviceId: 'L', length: 16, light_state: { on_off: 1 }, err_code: 0 } } };
    const b = recordingTransport([bulb, { 'smartlife.iot.smartbulb.lightingservice': { transition_light_state: { on_off: 1, err_code: 0 } } }]);
    const lamp = new Plug({ host: '10.0.0.9' }, { transport: b });
    expect(await lamp.status({ energy: false })).toMatchObject({ relayState: 0, light: 'bulb' });
    await lamp.setPower(true);
    expect(b.sent[1]).toEqual({ 'smartlife.iot.smartbulb.lightingservice': { transition_light_state: { on_off: 1 } } });
    const l = recordingTransport([lightstrip, { 'smartlife.iot.lightStrip': { set_light_state: { err_code: 0 } } }]);
    await new Plug({ host: '10.0.0.9' }, { transport: l }).setPower(false);
    expect(l.sent).toEqual([{ system: { get_sysinfo: {} } }, { 'smartlife.iot.lightStrip': { set_light_state: { on_off: 0 } } }]);
  });

  it('resolves a child suffix with one query, then reuses it', async () => {
    const t = recordingTransport([strip, ok, ok]);
    const plug = new Plug({ host: '10.0.0.9' }, { transport: t });
    await plug.setPower(true, { child: '02' });
    await plug.setPower(false, { child: 1 });
    expect(t.sent).toEqual([
      { system: { get_sysinfo: {} } },
      { context: { child_ids: ['ABC02'] }, system: { set_relay_state: { state: 1 } } },
      { context: { child_ids: ['ABC01'] }, system: { set_relay_state: { state: 0 } } },
    ]);
  });

  it('sends a full child id without a query', async () => {
    const t = recordingTransport([ok]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(true, { child: 'ABC01' });
    expect(t.sent).toHaveLength(1);
  });

  it('switches a whole device without context (after learning it is not a bulb)', async () => {
    const t = recordingTransport([strip, ok]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(false);
    expect(t.sent).toEqual([{ system: { get_sysinfo: {} } }, { system: { set_relay_state: { state: 0 } } }]);
  });

  it('raises the device error of a refused set', async () => {
    const t = recordingTransport([strip, { system: { set_relay_state: { err_code: -3, err_msg: 'invalid argument' } } }]);
    await expect(new Plug({ host: '10.0.0.9' }, { transport: t }).setPower(true)).rejects.toBeInstanceOf(TplinkDeviceError);
  });

  it('closes its transport', async () => {
    const t = recordingTransport([]);
    await new Plug({ host: '10.0.0.9' }, { transport: t }).close();
    expect(t.closed).toBe(true);
  });
});
