/**
 * One configured plug (or strip outlet) as the hub sees it over the LAN, through the TP-Link
 * client on main (`Plug`: one connection per device at a time, its lock). Reads what `reported`
 * carries and switches the relay.
 */
import { Plug, selectChild, type PlugOptions, type PlugStatus } from '../core/tplink';
import type { PlugEnergy, PlugPower } from '../core/plug-relay/contract';
import type { PlugConfig } from '../core/plug-relay/config';

export interface PlugReading {
  power: PlugPower;
  model: string;
  alias: string;
  energy?: PlugEnergy;
}

export type PlugClientOptions = Pick<PlugOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'socketFactory' | 'logger'>;

function num(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `emeter.get_realtime` in either firmware's units (mW/mV/mA/Wh or W/V/A/kWh). */
export function parseEnergy(reply: unknown): PlugEnergy | undefined {
  const rt = (reply as { emeter?: { get_realtime?: Record<string, unknown> } } | undefined)?.emeter?.get_realtime;
  if (typeof rt !== 'object' || rt === null || (num(rt, 'err_code') ?? 0) !== 0) return undefined;
  const pick = (milli: string, unit: string, scale: number): number | undefined => {
    const m = num(rt, milli);
    return m !== undefined ? m / scale : num(rt, unit);
  };
  const energy: PlugEnergy = {};
  const powerW = pick('power_mw', 'power', 1000);
  const voltageV = pick('voltage_mv', 'voltage', 1000);
  const currentA = pick('current_ma', 'current', 1000);
  const totalKwh = pick('total_wh', 'total', 1000);
  if (powerW !== undefined) energy.powerW = powerW;
  if (voltageV !== undefined) energy.voltageV = voltageV;
  if (currentA !== undefined) energy.currentA = currentA;
  if (totalKwh !== undefined) energy.totalKwh = totalKwh;
  return Object.keys(energy).length > 0 ? energy : undefined;
}

export class PlugDevice {
  private readonly plug: Plug;
  /** Unknown until tried; false once the device said it has no meter (not asked again). */
  private hasMeter: boolean | undefined;

  constructor(readonly config: PlugConfig, options: PlugClientOptions = {}) {
    this.plug = new Plug({ host: config.host, port: config.port }, options);
  }

  async read(): Promise<PlugReading> {
    return this.plug.session(async (plug) => {
      const status = await plug.status();
      const reading = this.readingOf(status);
      // Energy of a whole device only: a strip outlet's meter needs a child context.
      if (this.config.child === undefined && this.hasMeter !== false) {
        const energy = parseEnergy(await plug.transport.send({ emeter: { get_realtime: {} } }).catch(() => undefined));
        this.hasMeter = energy !== undefined;
        if (energy) reading.energy = energy;
      }
      return reading;
    });
  }

  async switch(power: PlugPower): Promise<PlugReading> {
    return this.plug.session(async (plug) => {
      await plug.setPower(power === 'on', this.config.child === undefined ? {} : { child: this.config.child });
      return this.readingOf(await plug.status());
    });
  }

  close(): Promise<void> {
    return this.plug.close();
  }

  private readingOf(status: PlugStatus): PlugReading {
    if (this.config.child !== undefined) {
      const child = selectChild(status, status, this.config.child);
      return { power: child.state === 1 ? 'on' : 'off', model: status.model, alias: child.alias };
    }
    const on = status.relayState !== undefined ? status.relayState === 1 : (status.children ?? []).some((c) => c.state === 1);
    return { power: on ? 'on' : 'off', model: status.model, alias: status.alias };
  }
}
