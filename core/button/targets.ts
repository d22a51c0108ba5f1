/**
 * Plug targets as configured: a plug's id (`lamp`), or an address `host[:port][#child]`
 * (`[fd00::5]:9999#2`), `#child` one outlet of a strip by index or child id. Which one a bare word
 * is (`lamp` is also a host name) is decided against the configured plugs (`resolveTarget`). Pure.
 */
import { PLUG_ID_PATTERN } from '../plug-relay/contract';
import { isValidHost, parseAddress } from '../tplink/address';
import type { TplinkEndpoint } from '../tplink/errors';
import { formatHostPort } from '../util/host-port';

/** Where a configured target is: the device's endpoint, and which of it. */
export interface PlugTarget extends TplinkEndpoint {
  /** Outlet of a strip: a 0-based index or a child id. Absent for a single plug. */
  child?: number | string;
  /** The configured plug this target is (its id), when it is one. */
  plug?: string;
}

/** A target before it is matched to the configured plugs: each of the two it may be (`lamp` is both). */
export interface TargetRef {
  id?: string;
  address?: PlugTarget;
}

/** Parses a target that may be a plug id or an address; throws an `Error` saying what is wrong. */
export function parseTargetRef(text: string): TargetRef {
  const raw = text.trim();
  const id = PLUG_ID_PATTERN.test(raw) ? raw : undefined;
  try {
    const address = parseTarget(raw);
    return id === undefined ? { address } : { id, address };
  } catch (err) {
    if (id !== undefined) return { id };
    throw err;
  }
}

/** The text of a reference: the id when it may be one, else the canonical address. */
export function formatTargetRef(ref: TargetRef): string {
  return ref.id ?? formatTarget(ref.address!);
}

const CHILD_ID = /^[A-Za-z0-9]{1,64}$/;

/** Parses one target; throws an `Error` saying what is wrong (callers add the variable name). */
export function parseTarget(text: string): PlugTarget {
  const raw = text.trim();
  if (raw === '') throw new Error('empty plug target (expected host[:port][#child])');
  const hashAt = raw.indexOf('#');
  const address = hashAt < 0 ? raw : raw.slice(0, hashAt);
  const childText = hashAt < 0 ? undefined : raw.slice(hashAt + 1);

  let host: string;
  let port: number;
  try {
    ({ host, port } = parseAddress(address));
  } catch (err) {
    // Its message already quotes the input.
    throw new Error((err as Error).message, { cause: err });
  }
  // parseAddress accepts any non-blank host; configuration gets the stack's plugHost check.
  if (!isValidHost(host)) {
    throw new Error(`"${raw}": "${host}" is not a host name, IPv4 or [IPv6] address`);
  }

  const target: PlugTarget = { host, port };
  if (childText !== undefined) {
    if (/^\d{1,3}$/.test(childText)) target.child = Number(childText);
    else if (CHILD_ID.test(childText)) target.child = childText;
    else throw new Error(`"${raw}": outlet "#${childText}" is neither an index (#0, #1, …) nor a child id`);
  }
  return target;
}

/** The canonical text of a target, `host:port[#child]` (IPv6 in brackets). */
export function formatTarget(target: PlugTarget): string {
  return `${formatHostPort(target.host, target.port)}${target.child === undefined ? '' : `#${target.child}`}`;
}

/** `host:port` of the device a target lives on (outlets of one strip share it). */
export function deviceKey(target: PlugTarget): string {
  return formatTarget({ host: target.host, port: target.port });
}

/** The targets by device (`deviceKey`), in first-seen order; targets of one device keep their order. */
export function byDevice<T extends PlugTarget>(targets: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const t of targets) {
    const key = deviceKey(t);
    const group = groups.get(key);
    if (group) group.push(t);
    else groups.set(key, [t]);
  }
  return [...groups.values()];
}
