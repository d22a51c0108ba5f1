/**
 * A simulated Kasa plug speaking the IOT protocol (`{"system":{"get_sysinfo":{}}}`) for the KLAP
 * servers: the JSON a newer HS100/HS103 answers once the transport is decrypted.
 */
import { EventEmitter } from 'node:events';
import { isObject } from '../../core/util/guards';

export interface IotDeviceOptions {
  model: string;
  deviceId: string;
  alias: string;
  /** Has an energy meter (KP115, HS110 v2+): `emeter` in newer firmware's units (mW, mV, mA, Wh). */
  meter?: boolean;
  /** What the meter shows while the relay is on, in watts. */
  loadW?: number;
}

type Json = Record<string, unknown>;

export class SimulatedIotDevice {
  readonly model: string;
  readonly deviceId: string;
  alias: string;
  on = false;
  readonly events = new EventEmitter();

  constructor(private readonly options: IotDeviceOptions) {
    this.model = options.model;
    this.deviceId = options.deviceId;
    this.alias = options.alias;
  }

  private sysinfo(): Json {
    return {
      sw_ver: '1.1.0 Build 260101 Rel.000000',
      hw_ver: '4.1',
      model: this.model,
      deviceId: this.deviceId,
      oemId: '0'.repeat(32),
      hwId: '0'.repeat(32),
      rssi: -40,
      latitude_i: 0,
      longitude_i: 0,
      alias: this.alias,
      status: 'new',
      obd_src: 'tplink',
      mic_type: 'IOT.SMARTPLUGSWITCH',
      feature: this.options.meter ? 'TIM:ENE' : 'TIM',
      mac: '00:00:5E:00:53:02',
      updating: 0,
      led_off: 0,
      relay_state: this.on ? 1 : 0,
      on_time: 0,
      icon_hash: '',
      dev_name: 'Smart Wi-Fi Plug',
      active_mode: 'none',
      next_action: { type: -1 },
      ntc_state: 0,
      err_code: 0,
    };
  }

  /** Answers one IOT request: every module asked for gets an answer or "module not support". */
  handle(request: unknown): Json {
    if (!isObject(request)) return { err_code: -1, err_msg: 'invalid request' };
    const modules: Record<string, Record<string, (params: unknown) => Json>> = {
      system: {
        get_sysinfo: () => this.sysinfo(),
        set_relay_state: (params) => this.setRelay(params),
        set_dev_alias: (params) => {
          if (isObject(params) && typeof params.alias === 'string') this.alias = params.alias;
          return { err_code: 0 };
        },
      },
      // The clock (clients show the device's time): UTC.
      time: { get_time: () => utcTime(), get_timezone: () => ({ index: 39, err_code: 0 }) },
      // The meter in newer firmware's units, with empty statistics.
      ...(this.options.meter && {
        emeter: {
          get_realtime: () => {
            const watts = this.on ? (this.options.loadW ?? 0) : 0;
            return { power_mw: watts * 1000, voltage_mv: 230_000, current_ma: Math.round((watts / 230) * 1000), total_wh: 1200, err_code: 0 };
          },
          get_daystat: () => ({ day_list: [], err_code: 0 }),
          get_monthstat: () => ({ month_list: [], err_code: 0 }),
        },
      }),
    };
    const reply: Json = {};
    for (const [module, methods] of Object.entries(request)) {
      if (module === 'context') continue;
      const known = Object.hasOwn(modules, module) ? modules[module]! : undefined;
      reply[module] =
        known && isObject(methods)
          ? Object.fromEntries(Object.entries(methods).map(([m, params]) => [m, Object.hasOwn(known, m) ? known[m]!(params) : { err_code: -2, err_msg: 'member not support' }]))
          : { err_code: -1, err_msg: 'module not support' };
    }
    return reply;
  }

  private setRelay(params: unknown): Json {
    const state = isObject(params) ? params.state : undefined;
    if (state !== 0 && state !== 1) return { err_code: -3, err_msg: 'invalid argument' };
    if ((state === 1) !== this.on) {
      this.on = state === 1;
      this.events.emit('change');
    }
    return { err_code: 0 };
  }
}

function utcTime(): Json {
  const now = new Date();
  return {
    year: now.getUTCFullYear(),
    month: now.getUTCMonth() + 1,
    mday: now.getUTCDate(),
    hour: now.getUTCHours(),
    min: now.getUTCMinutes(),
    sec: now.getUTCSeconds(),
    err_code: 0,
  };
}
