/**
 * Plug configuration (stack context, sandbox flags, agent config), comma-separated entries
 * `id@hub=host[:port][#child][?protocol=xor|klap|aes[&family=iot|smart]]`, e.g.
 * `lamp@hub-1=192.168.1.20,fan@hub-1=192.168.1.30:9999#1,kettle@hub-1=192.168.1.40?protocol=klap`.
 * A strip outlet is a plug of its own; `?protocol=` spares the hub detecting it. Pure.
 */
import { THING_NAME_PATTERN } from '../shadow/topics';
import { formatTarget, formatTargetRef, parseTarget, type PlugTarget, type TargetRef } from '../button/targets';
import { PLUG_ID_PATTERN } from './contract';
import { plugConfigError } from './errors';
import { PROTOCOL_FAMILIES as FAMILIES, TRANSPORT_KINDS as TRANSPORTS, type ProtocolFamily, type TransportKind } from '../tplink/address';

export interface PlugConfig extends Omit<PlugTarget, 'plug'> {
  id: string;
  /** The thing whose agent drives the plug; its shadow `plug-<id>` lives there. */
  hub: string;
  /** How the hub reaches the plug; detected (and remembered) when absent. */
  protocol?: TransportKind;
  /** The protocol family over KLAP; told by the plug when absent. */
  family?: ProtocolFamily;
}

/** The `?protocol=…&family=…` part, where given (before or after `#child`). */
function parseOverride(raw: string, query: string): Pick<PlugConfig, 'protocol' | 'family'> {
  const out: Pick<PlugConfig, 'protocol' | 'family'> = {};
  for (const pair of query.split('&')) {
    const [key, value = ''] = pair.split('=') as [string, string?];
    if (key === 'protocol' && (TRANSPORTS as readonly string[]).includes(value)) out.protocol = value as TransportKind;
    else if (key === 'family' && (FAMILIES as readonly string[]).includes(value)) out.family = value as ProtocolFamily;
    else throw plugConfigError(raw, `"${pair}" is not protocol=${TRANSPORTS.join('|')} or family=${FAMILIES.join('|')}`);
  }
  if (out.protocol === 'xor' && out.family === 'smart') throw plugConfigError(raw, 'XOR carries the IOT family only');
  if (out.protocol === 'aes' && out.family === 'iot') throw plugConfigError(raw, 'AES carries the SMART family only');
  return out;
}

export function parsePlug(text: string): PlugConfig {
  const raw = text.trim();
  const m = /^([^@=]*)@([^=]*)=(.*)$/.exec(raw);
  if (!m) throw plugConfigError(raw, 'expected id@hub=host[:port][#child]');
  const [, id, hub, rest] = m as unknown as [string, string, string, string];
  const query = /\?([^#]*)/.exec(rest);
  const address = query ? rest.replace(query[0], '') : rest;
  const override = query ? parseOverride(raw, query[1]!) : {};
  if (!PLUG_ID_PATTERN.test(id)) throw plugConfigError(raw, `id "${id}" must match ${PLUG_ID_PATTERN.source} (the shadow name is plug-<id>)`);
  if (!THING_NAME_PATTERN.test(hub)) throw plugConfigError(raw, `hub "${hub}" is not a thing name (${THING_NAME_PATTERN.source})`);
  let target: PlugTarget;
  try {
    target = parseTarget(address);
  } catch (err) {
    throw plugConfigError(raw, (err as Error).message, err);
  }
  return { id, hub, ...target, ...override };
}

/** Parses a comma-separated list; ids must be unique, as must the outlets they name. */
export function parsePlugList(text: string): PlugConfig[] {
  const plugs = text.split(',').map((s) => s.trim()).filter((s) => s !== '').map(parsePlug);
  checkPlugs(plugs);
  return plugs;
}

export function checkPlugs(plugs: readonly PlugConfig[]): void {
  const ids = new Set<string>();
  const outlets = new Set<string>();
  for (const p of plugs) {
    if (ids.has(p.id)) throw plugConfigError(formatPlug(p), `id "${p.id}" is configured twice`);
    ids.add(p.id);
    const where = formatTarget(p);
    if (outlets.has(where)) throw plugConfigError(formatPlug(p), `${where} is already configured as another plug`);
    outlets.add(where);
  }
}

export function formatPlug(p: PlugConfig): string {
  const override = [p.protocol && `protocol=${p.protocol}`, p.family && `family=${p.family}`].filter(Boolean).join('&');
  return `${p.id}@${p.hub}=${formatTarget(p)}${override ? `?${override}` : ''}`;
}

/** The plugs a hub drives. */
export function plugsOfHub(plugs: readonly PlugConfig[], hub: string): PlugConfig[] {
  return plugs.filter((p) => p.hub === hub);
}

/** The plug configured for a button target: by its id when it names one, else by address. */
export function plugForTarget(plugs: readonly PlugConfig[], target: PlugTarget): PlugConfig | undefined {
  if (target.plug !== undefined) return plugs.find((p) => p.id === target.plug);
  const key = formatTarget(target);
  return plugs.find((p) => formatTarget(p) === key);
}

/** The target a configured plug is: its address (direct mode) and its id (relay mode). */
export function plugTarget(plug: PlugConfig): PlugTarget {
  const { id, host, port, child } = plug;
  return child === undefined ? { host, port, plug: id } : { host, port, child, plug: id };
}

const idList = (plugs: readonly PlugConfig[]) => (plugs.length === 0 ? 'none is configured' : `configured: ${plugs.map((p) => p.id).join(', ')}`);

/**
 * A target matched to the configured plugs, by id or address. Relay mode needs a configured plug;
 * direct mode switches an unconfigured address as it is. Throws an `Error` (callers name the setting).
 */
export function resolveTarget(ref: TargetRef, plugs: readonly PlugConfig[], mode: 'relay' | 'direct'): PlugTarget {
  const byId = ref.id === undefined ? undefined : plugs.find((p) => p.id === ref.id);
  if (byId) return plugTarget(byId);
  const address = ref.address;
  const byAddress = address && plugForTarget(plugs, address);
  if (byAddress) return plugTarget(byAddress);
  // A bare word with no configured plugs is a host name in direct mode (`-c plugHost=lamp`).
  const idOnly = ref.id !== undefined && (address === undefined || plugs.length > 0 || mode === 'relay');
  if (idOnly) throw new Error(`"${ref.id}" is not a configured plug id (${idList(plugs)})`);
  if (mode === 'direct') return address!;
  const where = formatTargetRef(ref);
  throw new Error(`${where} is not a configured plug (${idList(plugs)}): configure it in plugs as <id>@<hub>=${where} and name the id`);
}
