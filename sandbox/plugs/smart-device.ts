/**
 * A simulated Tapo device speaking the SMART protocol (`{method, params}` → `{error_code, result}`):
 * a P110-like plug with an energy meter, a P100-like plug, or a P300-like strip whose outlets are
 * children reached through `control_child`. The KLAP and AES servers feed it decrypted requests.
 */
import { EventEmitter } from 'node:events';
import { isObject } from '../../core/util/guards';

export interface SmartOutlet {
  deviceId: string;
  nickname: string;
  on: boolean;
  /** What the outlet's own meter shows while it is on (strips with per-outlet meters), in watts. */
  loadW: number;
}

export interface SmartDeviceOptions {
  model: string;
  deviceId: string;
  nickname: string;
  /** Reports energy (P110, P115). */
  energy?: boolean;
  /** A strip's outlets (P300): the device itself then has no relay. */
  outlets?: { nickname: string; loadW?: number }[];
  /** Each outlet has its own energy meter (P304M), asked through `control_child`. */
  outletEnergy?: boolean;
  /** Children per page of `get_child_device_list` (devices page at 10; smaller to test paging). */
  pageSize?: number;
  /** Fails `multipleRequest` with this error code (firmware that rejects batches). */
  multipleRequestError?: number;
}

export interface SmartReply {
  error_code: number;
  result?: unknown;
}

type Params = Record<string, unknown>;
type Methods = Record<string, () => unknown>;

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const ok = (result: unknown): SmartReply => ({ error_code: 0, result });
const paramsOf = (request: Params): Params => (isObject(request.params) ? request.params : {});
const localTime = () => new Date().toISOString().slice(0, 19).replace('T', ' ');
const COMMON_INFO = { fw_ver: '1.0.0 Build 260101 Rel.000000', hw_ver: '1.0', region: 'Europe/London', mac: '00-00-5E-00-53-01' };
const USAGE = { time_usage: { today: 1, past7: 10, past30: 30 } };
const DEVICE_COMPONENT = { id: 'device', ver_code: 2 };
const ENERGY_COMPONENT = { id: 'energy_monitoring', ver_code: 2 };

/** The answer of a table's method; -1002 (unknown method) when the table has none. */
function answer(methods: Methods, method: unknown): SmartReply {
  return typeof method === 'string' && Object.hasOwn(methods, method) ? ok(methods[method]!()) : { error_code: -1002 };
}

/** An energy meter reading `watts` now (energy monitoring v2, as python-kasa asks for it). */
function meter(watts: number, usage: Params & { month_energy: number }): Methods {
  return {
    get_emeter_data: () => ({ power_mw: watts * 1000, voltage_mv: 230_000, current_ma: Math.round((watts / 230) * 1000), energy_wh: usage.month_energy }),
    get_emeter_vgain_igain: () => ({ vgain: 100, igain: 100 }),
    get_energy_usage: () => ({ ...usage, local_time: localTime() }),
    get_current_power: () => ({ current_power: watts }),
  };
}

export class SimulatedSmartDevice {
  readonly model: string;
  readonly deviceId: string;
  nickname: string;
  on = false;
  readonly outlets: SmartOutlet[] | undefined;
  /** `change` fires after a request switched the relay or an outlet. */
  readonly events = new EventEmitter();
  private readonly startedAt = Date.now();

  constructor(private readonly options: SmartDeviceOptions) {
    this.model = options.model;
    this.deviceId = options.deviceId;
    this.nickname = options.nickname;
    this.outlets = options.outlets?.map((o, i) => ({
      deviceId: `${options.deviceId}${String(i).padStart(2, '0')}`,
      nickname: o.nickname,
      on: false,
      loadW: o.loadW ?? 0,
    }));
  }

  /** Answers one SMART request. */
  handle(request: unknown): SmartReply {
    if (!isObject(request) || typeof request.method !== 'string') return { error_code: -1003 };
    const params = paramsOf(request);
    if (request.method === 'multipleRequest') return this.multiple(params);
    if (request.method === 'control_child') return this.controlChild(params);
    if (request.method === 'set_device_info') {
      if (this.outlets) return { error_code: -1008 };
      this.switch(this, params.device_on);
      if (typeof params.nickname === 'string') this.nickname = Buffer.from(params.nickname, 'base64').toString('utf8');
      return ok({});
    }
    const outlets = this.outlets;
    const childComponents = [DEVICE_COMPONENT, ...(this.options.outletEnergy ? [ENERGY_COMPONENT] : [])];
    return answer(
      {
        component_nego: () => ({ component_list: this.components() }),
        get_device_info: () => this.deviceInfo(),
        get_connect_cloud_state: () => ({ status: 0 }),
        get_device_time: () => ({ time_diff: 0, timestamp: Math.floor(Date.now() / 1000), region: COMMON_INFO.region }),
        get_device_usage: () => USAGE,
        // The P110's meter: energy usage carries current_power in mW, get_current_power in W.
        ...(this.options.energy ? meter(this.on ? 12 : 0, { today_runtime: 10, month_runtime: 100, today_energy: 25, month_energy: 250, current_power: this.on ? 12_000 : 0 }) : {}),
        ...(outlets && {
          get_child_device_list: () => this.page(outlets.map((o) => this.childInfo(o)), params, 'child_device_list'),
          get_child_device_component_list: () => this.page(outlets.map((o) => ({ device_id: o.deviceId, component_list: childComponents })), params, 'child_component_list'),
        }),
      },
      request.method,
    );
  }

  private switch(target: { on: boolean }, on: unknown): void {
    if (typeof on !== 'boolean' || on === target.on) return;
    target.on = on;
    this.events.emit('change');
  }

  private components(): { id: string; ver_code: number }[] {
    const list = [DEVICE_COMPONENT];
    if (this.options.energy) list.push(ENERGY_COMPONENT);
    if (this.outlets) list.push({ id: 'child_device', ver_code: 1 }, { id: 'control_child', ver_code: 2 });
    return list;
  }

  private deviceInfo(): Params {
    return {
      ...COMMON_INFO,
      device_id: this.deviceId,
      type: 'SMART.TAPOPLUG',
      model: this.model,
      nickname: b64(this.nickname),
      ip: '127.0.0.1',
      ssid: b64('sandbox'),
      rssi: -40,
      signal_level: 3,
      time_diff: 0,
      lang: 'en_US',
      specs: '',
      overheated: false,
      on_time: this.on ? Math.floor((Date.now() - this.startedAt) / 1000) : 0,
      has_set_location_info: false,
      avatar: 'plug',
      ...(this.outlets ? {} : { device_on: this.on }),
    };
  }

  private childInfo(outlet: SmartOutlet): Params {
    return {
      ...COMMON_INFO,
      device_id: outlet.deviceId,
      original_device_id: this.deviceId,
      parent_device_id: this.deviceId,
      type: 'SMART.TAPOPLUG',
      category: 'plug.powerstrip.sub-plug',
      model: this.model,
      nickname: b64(outlet.nickname),
      device_on: outlet.on,
      position: this.outlets!.indexOf(outlet) + 1,
      slot_number: this.outlets!.length,
      on_time: 0,
      overheat_status: 'normal',
      auto_off_status: 'off',
      auto_off_remain_time: 0,
      bind_count: 1,
    };
  }

  private page(items: unknown[], params: Params, name: string): Params {
    const start = typeof params.start_index === 'number' ? params.start_index : 0;
    const size = this.options.pageSize ?? 10;
    return { [name]: items.slice(start, start + size), start_index: start, sum: items.length };
  }

  private controlChild(params: Params): SmartReply {
    const outlet = this.outlets?.find((o) => o.deviceId === params.device_id);
    if (!outlet) return { error_code: -1008 };
    const inner = params.requestData;
    if (!isObject(inner) || typeof inner.method !== 'string') return { error_code: -1003 };
    if (inner.method === 'multipleRequest') {
      const requests = paramsOf(inner).requests;
      const responses = (Array.isArray(requests) ? requests : []).map((r: unknown) => ({ method: isObject(r) ? r.method : undefined, ...this.childRequest(outlet, r) }));
      return ok({ responseData: { error_code: 0, result: { responses } } });
    }
    return ok({ responseData: this.childRequest(outlet, inner) });
  }

  private childRequest(outlet: SmartOutlet, request: unknown): SmartReply {
    if (!isObject(request)) return { error_code: -1003 };
    if (request.method === 'set_device_info') {
      this.switch(outlet, paramsOf(request).device_on);
      return ok({});
    }
    return answer(
      {
        get_device_info: () => this.childInfo(outlet),
        component_nego: () => ({ component_list: [DEVICE_COMPONENT] }),
        get_device_usage: () => USAGE,
        // A P304M outlet's meter: energy usage without current_power.
        ...(this.options.outletEnergy ? meter(outlet.on ? outlet.loadW : 0, { today_runtime: 5, month_runtime: 50, today_energy: 12, month_energy: 120 }) : {}),
      },
      request.method,
    );
  }

  private multiple(params: Params): SmartReply {
    if (this.options.multipleRequestError !== undefined) return { error_code: this.options.multipleRequestError };
    const requests = Array.isArray(params.requests) ? params.requests : [];
    const responses: unknown[] = [];
    for (const request of requests) {
      const reply = this.handle(request);
      responses.push({ method: isObject(request) ? request.method : undefined, ...reply });
      // Devices stop at the first failed request; clients ask again for the rest.
      if (reply.error_code !== 0) break;
    }
    return ok({ responses });
  }
}
