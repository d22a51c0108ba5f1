/**
 * The plug shadow contract: the button function writes `desired`, the hub's agent applies it over
 * the LAN and writes `reported` (docs/plug-relay.md). Each plug's named shadow `plug-<plugId>` lives
 * on its hub's thing, so the policy's `name/plug-*` wildcard keeps each hub to its own thing. Pure.
 */
import { isObject, own, type Json, type JsonObject } from '../shadow/json';
import type { MeterReading } from '../tplink/meter';
import { PlugDesiredError } from './errors';

export const PLUG_SHADOW_PREFIX = 'plug-';
/** Plug ids: short enough that `plug-<id>` fits the 64-character shadow name limit. */
export const PLUG_ID_PATTERN = /^[a-zA-Z0-9_-]{1,59}$/;

export type PlugPower = 'on' | 'off';
export type RequestOutcome = 'applied' | 'expired' | 'failed';

export interface PlugDesired {
  power: PlugPower;
  requestId: string;
  /** Epoch ms when the button function made the request. */
  requestedAt: number;
}

export interface LastRequest {
  requestId: string;
  outcome: RequestOutcome;
  /** When failed (or expired): a stable code and a message. */
  error?: { code: string; message: string };
}

export interface PlugReported {
  power?: PlugPower;
  online: boolean;
  model?: string;
  alias?: string;
  lastRequest?: LastRequest;
  energy?: MeterReading;
  /** Why the plug is offline (or its last poll failed). */
  error?: { code: string; message: string };
}

export function plugShadowName(plugId: string): string {
  return `${PLUG_SHADOW_PREFIX}${plugId}`;
}

/** `desired`: undefined when nothing is requested, an error for a request that cannot be honoured. */
export function parseDesired(shadowName: string, desired: Json | undefined): PlugDesired | PlugDesiredError | undefined {
  if (desired === undefined || desired === null) return undefined;
  if (!isObject(desired)) return new PlugDesiredError(shadowName, '', 'is not an object');
  const requestId = own(desired, 'requestId');
  if (requestId === undefined || requestId === null) return undefined;
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > MAX_REQUEST_ID_LENGTH) {
    return new PlugDesiredError(shadowName, 'requestId', `is not a string of 1-${MAX_REQUEST_ID_LENGTH} characters`);
  }
  const power = own(desired, 'power');
  if (power !== 'on' && power !== 'off') return new PlugDesiredError(shadowName, 'power', `is ${bounded(JSON.stringify(power ?? null), 40)}, expected "on" or "off"`);
  const requestedAt = own(desired, 'requestedAt');
  if (typeof requestedAt !== 'number' || !Number.isFinite(requestedAt) || requestedAt < 0) {
    return new PlugDesiredError(shadowName, 'requestedAt', 'is not an epoch millisecond time');
  }
  return { power, requestId, requestedAt };
}

/** Longest requestId the contract accepts, and the longest echoed back into `reported`. */
export const MAX_REQUEST_ID_LENGTH = 128;

/** At most `max` characters of `text` (an ellipsis marks a cut): what is echoed into `reported`. */
export function bounded(text: string, max = MAX_REQUEST_ID_LENGTH): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The requestId a (possibly malformed) `desired` names, bounded so an answer still fits the shadow's 8 KB. */
export function desiredRequestId(desired: Json | undefined): string | undefined {
  const id = isObject(desired) ? own(desired, 'requestId') : undefined;
  if (id === undefined || id === null) return undefined;
  return bounded(typeof id === 'string' ? id : JSON.stringify(id));
}

/** Reads `reported` leniently: what the button needs (power, online, lastRequest). */
export function parseReported(reported: Json | undefined): Partial<PlugReported> {
  if (!isObject(reported)) return {};
  const out: Partial<PlugReported> = {};
  const power = own(reported, 'power');
  if (power === 'on' || power === 'off') out.power = power;
  const online = own(reported, 'online');
  if (typeof online === 'boolean') out.online = online;
  const alias = own(reported, 'alias');
  if (typeof alias === 'string') out.alias = alias;
  const last = own(reported, 'lastRequest');
  if (isObject(last)) {
    const requestId = own(last, 'requestId');
    const outcome = own(last, 'outcome');
    if (typeof requestId === 'string' && (outcome === 'applied' || outcome === 'expired' || outcome === 'failed')) {
      const lastRequest: LastRequest = { requestId, outcome };
      const error = own(last, 'error');
      if (isObject(error)) lastRequest.error = { code: String(own(error, 'code') ?? ''), message: String(own(error, 'message') ?? '') };
      out.lastRequest = lastRequest;
    }
  }
  return out;
}

/** Too old to apply (as the button's stale clicks), or dated as far in the future: a clock that far off. */
export function isExpired(desired: PlugDesired, now: number, maxAgeMs: number): boolean {
  return Math.abs(now - desired.requestedAt) > maxAgeMs;
}

/** `reported` as the JSON written to the shadow (undefined fields left out). */
export function reportedJson(reported: PlugReported): JsonObject {
  return JSON.parse(JSON.stringify(reported)) as JsonObject;
}
