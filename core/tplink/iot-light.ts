/**
 * Kasa bulbs (KL/LB) and light strips (KL400/KL420/KL430) on the IOT protocol: no relay but
 * `light_state.on_off`, switched through their lighting module. Pure; apart from commands.ts so the
 * button function's XOR path does not carry it.
 */
import { parseSysinfo, relayState, replyResult, text, type LightKind, type Sysinfo } from './commands';
import type { TplinkEndpoint } from './errors';
import { isObject } from '../util/guards';

const LIGHT_SWITCH: Record<LightKind, [module: string, method: string]> = {
  bulb: ['smartlife.iot.smartbulb.lightingservice', 'transition_light_state'],
  lightstrip: ['smartlife.iot.lightStrip', 'set_light_state'],
};

/** Parses a `get_sysinfo` reply of a plug, strip, bulb or light strip. */
export function parseAnySysinfo(endpoint: TplinkEndpoint, reply: unknown): Sysinfo {
  const info = replyResult(endpoint, reply, 'system', 'get_sysinfo');
  if (info.relay_state !== undefined || info.children !== undefined || !isObject(info.light_state)) return parseSysinfo(endpoint, reply);
  return {
    alias: text(info.alias),
    model: text(info.model),
    deviceId: text(info.deviceId),
    relayState: relayState(endpoint, info.light_state.on_off, 'light_state.on_off'),
    // Light strips give their length in LEDs; bulbs have none.
    light: typeof info.length === 'number' ? 'lightstrip' : 'bulb',
  };
}

/** Switches a bulb's or light strip's light. */
export function setLightRequest(on: boolean, light: LightKind): Record<string, unknown> {
  const [module, method] = LIGHT_SWITCH[light];
  return { [module]: { [method]: { on_off: on ? 1 : 0 } } };
}

/** Checks the reply to {@link setLightRequest}. */
export function parseSetLightReply(endpoint: TplinkEndpoint, reply: unknown, light: LightKind): void {
  const [module, method] = LIGHT_SWITCH[light];
  replyResult(endpoint, reply, module, method);
}
