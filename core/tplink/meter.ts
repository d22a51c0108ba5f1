/**
 * A plug's or strip outlet's energy meter in W, V, A and kWh. IOT: `emeter.get_realtime` (iot-meter.ts).
 * SMART: `get_emeter_data` (mW/mV/mA, newer firmware), else `get_energy_usage`'s `current_power`
 * (mW), else `get_current_power` (W; P304M outlets); SMART meters have no lifetime total, so
 * `totalKwh` is IOT-only. A whole strip's meter is its outlets' summed (voltage: their mean), as
 * python-kasa reads an IOT strip. Which request worked is returned, to be asked first next time.
 */
import type { PlugDevice } from './plug';
import { SmartPlug } from './smart-plug';
import { TplinkSmartError } from './errors';
import { iotMeterModule, iotRealtimeRequest, meterReading as reading, num, parseIotRealtime } from './iot-meter';
import type { PlugEnergy } from './commands';

export type MeterReading = Omit<PlugEnergy, 'todayWh'>;

/** The request that answered, or `none` when the device (or outlet) has no meter. */
export type MeterSource = 'iot-realtime' | 'smart-emeter-data' | 'smart-energy-usage' | 'smart-current-power' | 'none';

export interface MeterResult {
  source: MeterSource;
  reading?: MeterReading;
}

const SMART_SOURCES = ['smart-emeter-data', 'smart-energy-usage', 'smart-current-power'] as const;
type SmartSource = (typeof SMART_SOURCES)[number];
const SMART_METHOD: Record<SmartSource, string> = {
  'smart-emeter-data': 'get_emeter_data',
  'smart-energy-usage': 'get_energy_usage',
  'smart-current-power': 'get_current_power',
};

/** A SMART meter answer (the `result` of one of the three methods); undefined when it holds no power. */
export function parseSmartMeter(source: SmartSource, result: Record<string, unknown>): MeterReading | undefined {
  const milli = (key: string) => {
    const v = num(result, key);
    return v === undefined ? undefined : v / 1000;
  };
  if (source === 'smart-emeter-data') {
    if (num(result, 'power_mw') === undefined) return undefined;
    return reading({ powerW: milli('power_mw'), voltageV: milli('voltage_mv'), currentA: milli('current_ma') });
  }
  if (source === 'smart-energy-usage') return reading({ powerW: milli('current_power') });
  return reading({ powerW: num(result, 'current_power') });
}

/** The meter of `device` or its outlet `childId`, asking `known` (what answered last time) first. */
export async function readMeter(device: PlugDevice, childId?: string, known?: MeterSource): Promise<MeterResult> {
  if (!(device instanceof SmartPlug)) {
    // Plugs answer `emeter`, bulbs their own module; one request asks both.
    const request = { ...iotRealtimeRequest(childId), ...iotRealtimeRequest(undefined, iotMeterModule('bulb')) };
    const reply = await device.transport.send(request);
    const energy = parseIotRealtime(reply) ?? parseIotRealtime(reply, iotMeterModule('bulb'));
    return energy ? { source: 'iot-realtime', reading: energy } : { source: 'none' };
  }
  const order = known !== undefined && (SMART_SOURCES as readonly string[]).includes(known)
    ? [known as SmartSource, ...SMART_SOURCES.filter((s) => s !== known)]
    : [...SMART_SOURCES];
  for (const source of order) {
    const method = SMART_METHOD[source];
    let result: Record<string, unknown>;
    try {
      result = childId === undefined ? await device.protocol.call(method) : await device.protocol.callChild(childId, method);
    } catch (err) {
      // Unknown method or parameters (-1002, -1008, ...): this device does not meter that way.
      if (err instanceof TplinkSmartError && !err.retryable) continue;
      throw err;
    }
    const energy = parseSmartMeter(source, result);
    if (energy) return { source, reading: energy };
  }
  return { source: 'none' };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Outlets' readings as one: power, current and energy added, voltage averaged (outlets share the mains). */
export function sumReadings(readings: readonly MeterReading[]): MeterReading | undefined {
  const sum = (key: keyof MeterReading) => {
    const values = readings.map((r) => r[key]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : round3(values.reduce((a, b) => a + b, 0));
  };
  const volts = readings.map((r) => r.voltageV).filter((v): v is number => v !== undefined);
  return reading({
    powerW: sum('powerW'),
    voltageV: volts.length === 0 ? undefined : round3(volts.reduce((a, b) => a + b, 0) / volts.length),
    currentA: sum('currentA'),
    totalKwh: sum('totalKwh'),
  });
}

/** A whole strip's meter, its outlets' added up; outlets are alike, so one without a meter means `none`. */
export async function readStripMeter(device: PlugDevice, childIds: readonly string[], known?: MeterSource): Promise<MeterResult> {
  const readings: MeterReading[] = [];
  let source = known;
  for (const childId of childIds) {
    const outlet = await readMeter(device, childId, source);
    if (outlet.reading === undefined) return { source: 'none' };
    readings.push(outlet.reading);
    source = outlet.source;
  }
  const total = sumReadings(readings);
  return total && source ? { source, reading: total } : { source: 'none' };
}
