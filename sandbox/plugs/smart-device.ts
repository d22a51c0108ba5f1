/**
 * A simulated Tapo device speaking the SMART protocol (`{method, params}` → `{error_code, result}`):
 * a P110-like plug with an energy meter, a P100-like plug, or a P300-like strip whose outlets are
 * children reached through `control_child`. Transport-agnostic: the KLAP and AES servers feed it
 * decrypted requests. Pure state and logic, no I/O.
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
  mac?: string;
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

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

export class SimulatedSmartDevice {
  readonly model: string;
  readonly deviceId: string;
  nickname: string;
  on = false;
  readonly outlets: SmartOutlet[] | undefined;
  /** `change` fires after a request switched the relay or an outlet. */
  readonly events = new EventEmitter();
  /** Methods received, in order (multipleRequest's inner ones included). */
  readonly methods: string[] = [];
  private readonly options: SmartDeviceOptions;
  private readonly startedAt = Date.now();

  constructor(options: SmartDeviceOptions) {
    this.options = options;
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

  get type(): string {
    return 'SMART.TAPOPLUG';
  }

  /** Answers one SMART request. */
  handle(request: unknown): SmartReply {
    if (!isObject(request) || typeof request.method !== 'string') return { error_code: -1003 };
    const method = request.method;
    const params = isObject(request.params) ? request.params : {};
    this.methods.push(method);
    switch (method) {
      case 'multipleRequest':
        return this.multiple(params);
      case 'control_child':
        return this.controlChild(params);
      default:
        return this.single(method, params);
    }
  }

  private single(method: string, params: Params): SmartReply {
    switch (method) {
      case 'component_nego':
        return ok({ component_list: this.components() });
      case 'get_device_info':
        return ok(this.deviceInfo());
      case 'set_device_info':
        return this.setDeviceInfo(params);
      case 'get_connect_cloud_state':
        return ok({ status: 0 });
      case 'get_device_time':
        return ok({ time_diff: 0, timestamp: Math.floor(Date.now() / 1000), region: 'Europe/London' });
      case 'get_device_usage':
        return ok({ time_usage: { today: 1, past7: 10, past30: 30 } });
      case 'get_energy_usage':
        return this.options.energy ? ok(this.energyUsage()) : { error_code: -1002 };
      case 'get_emeter_data':
        return this.options.energy ? ok({ power_mw: this.on ? 12_000 : 0, voltage_mv: 230_000, current_ma: this.on ? 52 : 0, energy_wh: 250 }) : { error_code: -1002 };
      case 'get_emeter_vgain_igain':
        return this.options.energy ? ok({ vgain: 100, igain: 100 }) : { error_code: -1002 };
      case 'get_current_power':
        return this.options.energy ? ok({ current_power: this.on ? 12 : 0 }) : { error_code: -1002 };
      case 'get_child_device_list':
        return this.childList(params);
      case 'get_child_device_component_list':
        return this.childComponents(params);
      default:
        return { error_code: -1002 };
    }
  }

  private components(): { id: string; ver_code: number }[] {
    const list = [{ id: 'device', ver_code: 2 }];
    if (this.options.energy) list.push({ id: 'energy_monitoring', ver_code: 2 });
    if (this.outlets) list.push({ id: 'child_device', ver_code: 1 }, { id: 'control_child', ver_code: 2 });
    return list;
  }

  deviceInfo(): Record<string, unknown> {
    const info: Record<string, unknown> = {
      device_id: this.deviceId,
      type: this.type,
      model: this.model,
      nickname: b64(this.nickname),
      fw_ver: '1.0.0 Build 260101 Rel.000000',
      hw_ver: '1.0',
      mac: this.options.mac ?? '00-00-5E-00-53-01',
      ip: '127.0.0.1',
      ssid: b64('sandbox'),
      rssi: -40,
      signal_level: 3,
      time_diff: 0,
      region: 'Europe/London',
      lang: 'en_US',
      specs: '',
      overheated: false,
      on_time: this.on ? Math.floor((Date.now() - this.startedAt) / 1000) : 0,
      has_set_location_info: false,
      avatar: 'plug',
    };
    if (!this.outlets) info.device_on = this.on;
    return info;
  }

  private energyUsage(): Record<string, unknown> {
    return {
      today_runtime: 10,
      month_runtime: 100,
      today_energy: 25,
      month_energy: 250,
      local_time: localTime(),
      current_power: this.on ? 12_000 : 0,
    };
  }

  private setDeviceInfo(params: Params): SmartReply {
    if (this.outlets) return { error_code: -1008 };
    if (typeof params.device_on === 'boolean' && params.device_on !== this.on) {
      this.on = params.device_on;
      this.events.emit('change');
    }
    if (typeof params.nickname === 'string') this.nickname = Buffer.from(params.nickname, 'base64').toString('utf8');
    return ok({});
  }

  private childInfo(outlet: SmartOutlet, position: number): Record<string, unknown> {
    return {
      device_id: outlet.deviceId,
      original_device_id: this.deviceId,
      parent_device_id: this.deviceId,
      type: 'SMART.TAPOPLUG',
      category: 'plug.powerstrip.sub-plug',
      model: this.model,
      nickname: b64(outlet.nickname),
      device_on: outlet.on,
      position: position + 1,
      slot_number: this.outlets!.length,
      fw_ver: '1.0.0 Build 260101 Rel.000000',
      hw_ver: '1.0',
      mac: this.options.mac ?? '00-00-5E-00-53-01',
      on_time: 0,
      overheat_status: 'normal',
      auto_off_status: 'off',
      auto_off_remain_time: 0,
      bind_count: 1,
      region: 'Europe/London',
    };
  }

  private page<T>(items: T[], params: Params, name: string): SmartReply {
    const start = typeof params.start_index === 'number' ? params.start_index : 0;
    const size = this.options.pageSize ?? 10;
    return ok({ [name]: items.slice(start, start + size), start_index: start, sum: items.length });
  }

  private childList(params: Params): SmartReply {
    if (!this.outlets) return { error_code: -1002 };
    return this.page(
      this.outlets.map((o, i) => this.childInfo(o, i)),
      params,
      'child_device_list',
    );
  }

  private childComponents(params: Params): SmartReply {
    if (!this.outlets) return { error_code: -1002 };
    const components = [{ id: 'device', ver_code: 2 }, ...(this.options.outletEnergy ? [{ id: 'energy_monitoring', ver_code: 2 }] : [])];
    return this.page(
      this.outlets.map((o) => ({ device_id: o.deviceId, component_list: components })),
      params,
      'child_component_list',
    );
  }

  private controlChild(params: Params): SmartReply {
    const outlet = this.outlets?.find((o) => o.deviceId === params.device_id);
    if (!outlet) return { error_code: -1008 };
    const inner = params.requestData;
    if (!isObject(inner) || typeof inner.method !== 'string') return { error_code: -1003 };
    const innerParams = isObject(inner.params) ? inner.params : {};
    this.methods.push(`control_child:${inner.method}`);
    if (inner.method === 'multipleRequest') {
      const requests = Array.isArray(innerParams.requests) ? innerParams.requests : [];
      const responses = requests.map((r: unknown) => ({ method: isObject(r) ? r.method : undefined, ...this.childRequest(outlet, r) }));
      return ok({ responseData: { error_code: 0, result: { responses } } });
    }
    return ok({ responseData: this.childRequest(outlet, inner) });
  }

  private childRequest(outlet: SmartOutlet, request: unknown): SmartReply {
    if (!isObject(request)) return { error_code: -1003 };
    const params = isObject(request.params) ? request.params : {};
    switch (request.method) {
      case 'get_device_info':
        return ok(this.childInfo(outlet, this.outlets!.indexOf(outlet)));
      case 'set_device_info':
        if (typeof params.device_on === 'boolean' && params.device_on !== outlet.on) {
          outlet.on = params.device_on;
          this.events.emit('change');
        }
        return ok({});
      case 'component_nego':
        return ok({ component_list: [{ id: 'device', ver_code: 2 }] });
      case 'get_device_usage':
        return ok({ time_usage: { today: 1, past7: 10, past30: 30 } });
      // A P304M outlet's meter: energy usage without current_power, which get_current_power gives in
      // watts; get_emeter_data as energy monitoring v2 devices answer it (python-kasa asks for it).
      case 'get_emeter_data':
        return this.options.outletEnergy
          ? ok({ power_mw: outlet.on ? outlet.loadW * 1000 : 0, voltage_mv: 230_000, current_ma: outlet.on ? Math.round((outlet.loadW / 230) * 1000) : 0, energy_wh: 120 })
          : { error_code: -1002 };
      case 'get_emeter_vgain_igain':
        return this.options.outletEnergy ? ok({ vgain: 100, igain: 100 }) : { error_code: -1002 };
      case 'get_energy_usage':
        return this.options.outletEnergy ? ok({ today_runtime: 5, month_runtime: 50, today_energy: 12, month_energy: 120, local_time: localTime() }) : { error_code: -1002 };
      case 'get_current_power':
        return this.options.outletEnergy ? ok({ current_power: outlet.on ? outlet.loadW : 0 }) : { error_code: -1002 };
      default:
        return { error_code: -1002 };
    }
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

function localTime(): string {
  return new Date().toISOString().slice(0, 19).replace('T', ' ');
}

function ok(result: unknown): SmartReply {
  return { error_code: 0, result };
}
