/**
 * Plug targets as written in configuration: `host[:port][#child]`, e.g. `192.168.1.20`,
 * `plug.lan:9999`, `[fd00::5]:9999#2`. `#child` picks one outlet of a strip, by index
 * (`#0`, `#1`, …) or by child id (`#8006…01`). Pure: no sockets here.
 */
import { DEFAULT_PORT, isValidHost, parseAddress } from '../tplink/address';

export const DEFAULT_PLUG_PORT = DEFAULT_PORT;

export interface PlugTarget {
  host: string;
  port: number;
  /** Outlet of a strip: a 0-based index or a child id. Absent for a single plug. */
  child?: number | string;
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
    ({ host, port } = parseAddress(address, DEFAULT_PLUG_PORT));
  } catch (err) {
    // Its message already quotes the input.
    throw new Error((err as Error).message, { cause: err });
  }
  // parseAddress accepts any non-blank host; configuration deserves a stricter look (the same
  // check the stack's context applies to plugHost).
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

/** Parses a comma-separated list of targets (at least one). */
export function parseTargetList(text: string): PlugTarget[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new Error('no plug target given (expected host[:port][#child], comma-separated)');
  return items.map(parseTarget);
}

/** The canonical text of a target, `host:port[#child]` (IPv6 in brackets). */
export function formatTarget(target: PlugTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${host}:${target.port}${target.child === undefined ? '' : `#${target.child}`}`;
}

/** `host:port` of the device a target lives on (outlets of one strip share it). */
export function deviceKey(target: PlugTarget): string {
  return formatTarget({ host: target.host, port: target.port });
}
