/** Requests and reply parsers of the IOT protocol, pure; the endpoint only names the device in errors. */
import {
  TplinkChildNotFoundError,
  TplinkDeviceError,
  TplinkProtocolError,
  type TplinkEndpoint,
} from './errors';
import { isObject } from '../util/guards';

export type RelayState = 0 | 1;

/** One outlet of a strip (HS300, KP303, KP400). */
export interface PlugChild {
  /** Full child id: the device id followed by two digits (`…00`, `…01`, …). */
  id: string;
  /** Position in the device's `children` list, from 0. */
  index: number;
  alias: string;
  state: RelayState;
  /** The outlet's own meter (HS300), when the status read it. */
  energy?: PlugEnergy;
}

/** A meter's reading; each field only where the device gives it. */
export interface PlugEnergy {
  powerW?: number;
  voltageV?: number;
  currentA?: number;
  totalKwh?: number;
  /** SMART meters: today's energy. */
  todayWh?: number;
}

/** Kasa bulbs (KL/LB) and light strips (KL400/KL420/KL430) switch through their lighting module. */
export type LightKind = 'bulb' | 'lightstrip';

/** The parts of `system.get_sysinfo` shadowplug uses. */
export interface Sysinfo {
  alias: string;
  model: string;
  deviceId: string;
  /** Plugs only; strips have no top-level relay state. */
  relayState?: RelayState;
  /** Strips only. */
  children?: PlugChild[];
  /** Bulbs and light strips: `relayState` is their `light_state.on_off`. */
  light?: LightKind;
}

export function getSysinfoRequest(): { system: { get_sysinfo: Record<string, never> } } {
  return { system: { get_sysinfo: {} } };
}

/** Sets the relay; with `childIds`, only those outlets of a strip (full ids). */
export function setRelayStateRequest(on: boolean, childIds?: readonly string[]): Record<string, unknown> {
  const request = { system: { set_relay_state: { state: on ? 1 : 0 } } };
  return childIds === undefined ? request : { ...request, context: { child_ids: [...childIds] } };
}

function checkErrCode(endpoint: TplinkEndpoint, where: string, node: Record<string, unknown>): void {
  const code = node.err_code;
  if (code === undefined || code === 0) return;
  if (typeof code !== 'number') {
    throw new TplinkProtocolError(endpoint, 'unexpected-reply', `${where}.err_code is not a number`);
  }
  throw new TplinkDeviceError(endpoint, where, code, typeof node.err_msg === 'string' ? node.err_msg : undefined);
}

/** The result of `module.method` in a reply, `err_code` checked on both (e.g. -1 "module not support"). */
export function replyResult(
  endpoint: TplinkEndpoint,
  reply: unknown,
  module: string,
  method: string,
): Record<string, unknown> {
  if (!isObject(reply)) throw new TplinkProtocolError(endpoint, 'unexpected-reply', 'reply is not a JSON object');
  const mod = reply[module];
  if (!isObject(mod)) throw new TplinkProtocolError(endpoint, 'unexpected-reply', `reply has no "${module}" object`);
  checkErrCode(endpoint, module, mod);
  const result = mod[method];
  if (!isObject(result)) {
    throw new TplinkProtocolError(endpoint, 'unexpected-reply', `reply has no "${module}.${method}" object`);
  }
  checkErrCode(endpoint, `${module}.${method}`, result);
  return result;
}

export function relayState(endpoint: TplinkEndpoint, value: unknown, where: string): RelayState {
  if (value === 0 || value === 1) return value;
  throw new TplinkProtocolError(endpoint, 'unexpected-reply', `${where} is ${JSON.stringify(value)}, expected 0 or 1`);
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Parses a `get_sysinfo` reply of a plug or a strip (bulbs: iot-light.ts). */
export function parseSysinfo(endpoint: TplinkEndpoint, reply: unknown): Sysinfo {
  const info = replyResult(endpoint, reply, 'system', 'get_sysinfo');
  const deviceId = text(info.deviceId);
  const sysinfo: Sysinfo = {
    alias: text(info.alias),
    model: text(info.model),
    deviceId,
  };
  if (Array.isArray(info.children) && info.children.length > 0) {
    sysinfo.children = info.children.map((raw: unknown, index) => {
      if (!isObject(raw)) {
        throw new TplinkProtocolError(endpoint, 'unexpected-reply', `children[${index}] is not an object`);
      }
      let id = text(raw.id);
      // Some firmware (and UDP replies) give only the 2-digit suffix: make it a full id.
      if (id.length <= 2 && deviceId) id = deviceId + id.padStart(2, '0');
      return { id, index, alias: text(raw.alias), state: relayState(endpoint, raw.state, `children[${index}].state`) };
    });
  } else {
    sysinfo.relayState = relayState(endpoint, info.relay_state, 'relay_state');
  }
  return sysinfo;
}

/** Checks a `set_relay_state` reply. */
export function parseSetRelayStateReply(endpoint: TplinkEndpoint, reply: unknown): void {
  replyResult(endpoint, reply, 'system', 'set_relay_state');
}

/** How a caller names an outlet: full id, 2-digit suffix (`"00"`..`"05"`), or index (number or digit string). */
export type ChildSelector = string | number;

/** The outlet a selector names: a full id, a 2-character id suffix, or an index (number or digits). */
export function selectChild(endpoint: TplinkEndpoint, sysinfo: Sysinfo, selector: ChildSelector): PlugChild {
  const children = sysinfo.children;
  if (children === undefined) {
    throw new TplinkChildNotFoundError(endpoint, selector, `${sysinfo.model || 'this device'} is a plug with no outlets to choose`);
  }
  const ids = children.map((c) => c.id.slice(-2)).join(', ');
  if (typeof selector === 'string') {
    const exact = children.find((c) => c.id === selector);
    if (exact) return exact;
    if (selector.length === 2) {
      const bySuffix = children.find((c) => c.id.endsWith(selector));
      if (bySuffix) return bySuffix;
    }
    if (!/^\d+$/.test(selector)) {
      throw new TplinkChildNotFoundError(endpoint, selector, `outlet ids end in ${ids}`);
    }
  }
  const index = typeof selector === 'number' ? selector : Number.parseInt(selector, 10);
  const child = Number.isInteger(index) ? children[index] : undefined;
  if (!child) {
    throw new TplinkChildNotFoundError(endpoint, selector, `indexes are 0..${children.length - 1}, id suffixes ${ids}`);
  }
  return child;
}
