import { describe, expect, it } from 'vitest';
import { Plug } from '../../../core/tplink/plug';
import { SmartPlug } from '../../../core/tplink/smart-plug';
import { readMeter, readStripMeter, sumReadings } from '../../../core/tplink/meter';
import { parseIotRealtime } from '../../../core/tplink/iot-meter';
import type { Transport } from '../../../core/tplink/transport';

/** A device in memory: answers each request with `answer`, and keeps what it was asked. */
function fakeTransport(answer: (request: Record<string, unknown>) => unknown): Transport & { asked: Record<string, unknown>[] } {
  const asked: Record<string, unknown>[] = [];
  return {
    endpoint: { host: '127.0.0.1', port: 80 },
    asked,
    send: (request) => {
      asked.push(request as Record<string, unknown>);
      return Promise.resolve(answer(request as Record<string, unknown>));
    },
    hold: (fn) => fn(),
    close: () => Promise.resolve(),
  };
}

/** SMART answers by method (a control_child request by its inner method); -1002 for the others. */
function smartDevice(results: Record<string, Record<string, unknown>>) {
  return fakeTransport((request) => {
    const params = request.params as { requestData?: { method: string } } | undefined;
    const method = request.method === 'control_child' ? params!.requestData!.method : (request.method as string);
    const result = results[method];
    const reply = result ? { error_code: 0, result } : { error_code: -1002 };
    return request.method === 'control_child' ? { error_code: 0, result: { responseData: reply } } : reply;
  });
}

describe('energy meters', () => {
  it('reads IOT realtime in either firmware’s units, and nothing from an error or a plug without a meter', () => {
    expect(parseIotRealtime({ emeter: { get_realtime: { power_mw: 3140, voltage_mv: 122049, current_ma: 125, total_wh: 51493, err_code: 0 } } })).toEqual({
      powerW: 3.14,
      voltageV: 122.049,
      currentA: 0.125,
      totalKwh: 51.493,
    });
    expect(parseIotRealtime({ emeter: { get_realtime: { power: 3.14, voltage: 122, current: 0.1, total: 51.5, err_code: 0 } } })).toEqual({ powerW: 3.14, voltageV: 122, currentA: 0.1, totalKwh: 51.5 });
    expect(parseIotRealtime({ emeter: { err_code: -1, err_msg: 'module not support' } })).toBeUndefined();
    expect(parseIotRealtime({ emeter: { get_realtime: { err_code: -14 } } })).toBeUndefined();
  });

  it("reads a SMART plug's energy with its status, and not at all when only the relay is wanted", async () => {
    const transport = smartDevice({ get_device_info: { device_on: true, model: 'P110' }, get_energy_usage: { current_power: 12_000, today_energy: 25 } });
    const plug = new SmartPlug(transport);
    expect((await plug.status()).energy).toEqual({ powerW: 12, todayWh: 25 });
    expect(transport.asked.map((r) => r.method)).toContain('get_energy_usage');
    transport.asked.length = 0;
    const relayOnly = await plug.status({ energy: false });
    expect(relayOnly).toMatchObject({ relayState: 1, model: 'P110' });
    expect(relayOnly.energy).toBeUndefined();
    expect(transport.asked.map((r) => r.method)).toEqual(['get_device_info']);
  });

  it("asks an IOT strip outlet's meter with its child id in the context", async () => {
    const transport = fakeTransport(() => ({ emeter: { get_realtime: { power_mw: 1000, err_code: 0 } } }));
    expect(await readMeter(new Plug({ host: '127.0.0.1' }, { transport }), 'ABC01')).toEqual({ source: 'iot-realtime', reading: { powerW: 1 } });
    // Bulbs answer their own meter module: one request asks both.
    expect(transport.asked).toEqual([{ context: { child_ids: ['ABC01'] }, emeter: { get_realtime: {} }, 'smartlife.iot.common.emeter': { get_realtime: {} } }]);
  });

  it('falls back from get_emeter_data to get_energy_usage (mW) to get_current_power (W), through control_child for an outlet', async () => {
    const p110 = smartDevice({ get_energy_usage: { current_power: 12_500, today_energy: 25 } });
    expect(await readMeter(new SmartPlug(p110))).toEqual({ source: 'smart-energy-usage', reading: { powerW: 12.5 } });

    // A P304M outlet whose energy usage has no current_power.
    const p304m = smartDevice({ get_energy_usage: { today_energy: 12 }, get_current_power: { current_power: 27 } });
    const outlet = await readMeter(new SmartPlug(p304m), 'CHILD01');
    expect(outlet).toEqual({ source: 'smart-current-power', reading: { powerW: 27 } });
    expect(p304m.asked.map((r) => r.method)).toEqual(['control_child', 'control_child', 'control_child']);
    expect(p304m.asked.map((r) => (r.params as { device_id: string }).device_id)).toEqual(['CHILD01', 'CHILD01', 'CHILD01']);

    // Next time the source that answered is asked first: one round trip.
    p304m.asked.length = 0;
    expect(await readMeter(new SmartPlug(p304m), 'CHILD01', outlet.source)).toEqual(outlet);
    expect(p304m.asked).toHaveLength(1);

    const v2 = smartDevice({ get_emeter_data: { power_mw: 1003, voltage_mv: 121215, current_ma: 33, energy_wh: 971 } });
    expect(await readMeter(new SmartPlug(v2))).toEqual({ source: 'smart-emeter-data', reading: { powerW: 1.003, voltageV: 121.215, currentA: 0.033 } });
  });

  it('says none for a SMART plug without a meter (P100, a P300 outlet)', async () => {
    expect(await readMeter(new SmartPlug(smartDevice({})))).toEqual({ source: 'none' });
    expect(await readMeter(new SmartPlug(smartDevice({})), 'CHILD02')).toEqual({ source: 'none' });
  });

  it("adds a whole strip's outlets up (volts averaged), and stops at an outlet without a meter", async () => {
    expect(sumReadings([{ powerW: 0.1, voltageV: 230, currentA: 0.01, totalKwh: 1 }, { powerW: 0.2, voltageV: 232 }])).toEqual({ powerW: 0.3, voltageV: 231, currentA: 0.01, totalKwh: 1 });
    expect(sumReadings([])).toBeUndefined();
    const hs300 = fakeTransport((r) => {
      const id = (r.context as { child_ids: string[] }).child_ids[0]!;
      return { emeter: { get_realtime: { power_mw: id.endsWith('00') ? 1000 : 2500, voltage_mv: 230_000, err_code: 0 } } };
    });
    expect(await readStripMeter(new Plug({ host: '127.0.0.1' }, { transport: hs300 }), ['S00', 'S01'])).toEqual({ source: 'iot-realtime', reading: { powerW: 3.5, voltageV: 230 } });
    const p300 = smartDevice({});
    expect(await readStripMeter(new SmartPlug(p300), ['C00', 'C01', 'C02'])).toEqual({ source: 'none' });
    expect(p300.asked).toHaveLength(3); // the first outlet's three requests; the others are alike
  });
});
