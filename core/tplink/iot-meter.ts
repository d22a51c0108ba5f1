/**
 * The IOT protocol's meter (`emeter`; `smartlife.iot.common.emeter` on bulbs), in either firmware's
 * units. Pure; apart from meter.ts so the IOT plug reads energy without the SMART protocol.
 */
import type { LightKind, PlugEnergy } from './commands';
import { isObject } from '../util/guards';

/** The module answering `get_realtime`: plugs and strips `emeter`, bulbs and light strips their own. */
export function iotMeterModule(light?: LightKind): string {
  return light === undefined ? 'emeter' : 'smartlife.iot.common.emeter';
}

/** `o[key]` when it is a finite number. */
export function num(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Drops absent fields; undefined when nothing is left. */
export function meterReading(fields: PlugEnergy): PlugEnergy | undefined {
  const out: PlugEnergy = {};
  for (const [k, v] of Object.entries(fields) as [keyof PlugEnergy, number | undefined][]) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** An IOT `get_realtime` answer in W/V/A/kWh or mW/mV/mA/Wh; undefined without a meter or readings. */
export function parseIotRealtime(reply: unknown, module = 'emeter'): PlugEnergy | undefined {
  const mod = isObject(reply) ? reply[module] : undefined;
  const rt = isObject(mod) && (num(mod, 'err_code') ?? 0) === 0 ? mod.get_realtime : undefined;
  if (!isObject(rt) || (num(rt, 'err_code') ?? 0) !== 0) return undefined;
  const pick = (milli: string, unit: string): number | undefined => {
    const m = num(rt, milli);
    return m !== undefined ? m / 1000 : num(rt, unit);
  };
  return meterReading({ powerW: pick('power_mw', 'power'), voltageV: pick('voltage_mv', 'voltage'), currentA: pick('current_ma', 'current'), totalKwh: pick('total_wh', 'total') });
}

/** The IOT request for the device's meter, or an outlet's (`childId`: the outlet's full id). */
export function iotRealtimeRequest(childId?: string, module = 'emeter'): Record<string, unknown> {
  return { ...(childId === undefined ? {} : { context: { child_ids: [childId] } }), [module]: { get_realtime: {} } };
}
