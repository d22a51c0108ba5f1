/**
 * The sandbox's plugs as `--plug` names them: `id[@thing]=kind[#outlet]` for a simulated plug of
 * that kind, `id[@thing]=host[:port][#outlet]` for a real plug on the LAN, or (as before) a bare
 * `host[:port]` for one real plug `lamp`.
 */
import { PLUG_ID_PATTERN } from '../core/plug-relay/contract';
import { parseTarget } from '../core/button/targets';
import { SIMULATED_DEVICE_KINDS, KIND_PROTOCOLS, type SimulatedDeviceKind } from './plugs/simulated-devices';
import { SandboxConfigError } from './errors';

/** XOR plugs (TCP 9999, tplink-smarthome-simulator), then the KLAP/AES ones (sandbox/plugs). */
export const XOR_PLUG_KINDS = ['hs100', 'hs110', 'hs300'] as const;
export type XorPlugKind = (typeof XOR_PLUG_KINDS)[number];
export type SandboxPlugKind = XorPlugKind | SimulatedDeviceKind;
export const SANDBOX_PLUG_KINDS: readonly SandboxPlugKind[] = [...XOR_PLUG_KINDS, ...SIMULATED_DEVICE_KINDS];

/** The id of the sandbox's one plug by default (its shadow is `plug-lamp` on the first thing). */
export const DEFAULT_PLUG_ID = 'lamp';

export interface SandboxPlugSpec {
  id: string;
  /** The thing whose agent drives it: a name, or absent for the first thing. */
  thing?: string;
  /** Simulated: its kind. */
  kind?: SandboxPlugKind;
  /** Real: where it is on the LAN. */
  address?: { host: string; port: number };
  /** One outlet of a strip (index or child id); absent: the whole device. */
  outlet?: number | string;
}

/** How a kind is spoken to: what the ready line and the agents are told. */
export function kindProtocol(kind: SandboxPlugKind): { protocol: 'xor' | 'klap' | 'aes'; family: 'iot' | 'smart' } {
  if ((XOR_PLUG_KINDS as readonly string[]).includes(kind)) return { protocol: 'xor', family: 'iot' };
  const spec = KIND_PROTOCOLS[kind as SimulatedDeviceKind];
  return { protocol: spec.transport, family: spec.family };
}

export function isStripKind(kind: SandboxPlugKind): boolean {
  return kind === 'hs300' || kind === 'p300-klap';
}

const SHAPE = 'id[@thing]=kind[#outlet] or id[@thing]=host[:port][#outlet]';

/** One `--plug` value. Throws SandboxConfigError naming the flag and the value. */
export function parsePlugSpec(text: string): SandboxPlugSpec {
  const raw = text.trim();
  const fail = (problem: string): never => {
    throw new SandboxConfigError(`--plug "${raw}": ${problem}`);
  };
  const eq = raw.indexOf('=');
  if (eq < 0) return { id: DEFAULT_PLUG_ID, address: address(raw, fail) };
  const [id, thing] = raw.slice(0, eq).split('@') as [string, string | undefined];
  if (!PLUG_ID_PATTERN.test(id)) fail(`id "${id}" must match ${PLUG_ID_PATTERN.source} (expected ${SHAPE})`);
  if (thing !== undefined && !/^[a-zA-Z0-9:_-]{1,128}$/.test(thing)) fail(`"${thing}" is not a thing name`);
  const value = raw.slice(eq + 1);
  const hash = value.indexOf('#');
  const device = hash < 0 ? value : value.slice(0, hash);
  const spec: SandboxPlugSpec = { id, ...(thing !== undefined ? { thing } : {}) };
  if ((SANDBOX_PLUG_KINDS as readonly string[]).includes(device.toLowerCase())) {
    spec.kind = device.toLowerCase() as SandboxPlugKind;
    if (hash >= 0) {
      if (!isStripKind(spec.kind)) fail(`${spec.kind} has no outlets (strips: hs300, p300-klap)`);
      spec.outlet = outlet(value.slice(hash + 1), fail);
    }
    return spec;
  }
  const target = address(value, fail);
  spec.address = { host: target.host, port: target.port };
  if (target.child !== undefined) spec.outlet = target.child;
  return spec;
}

function address(text: string, fail: (problem: string) => never): { host: string; port: number; child?: number | string } {
  try {
    return parseTarget(text);
  } catch (err) {
    return fail(`${(err as Error).message}; expected ${SHAPE} with a kind among ${SANDBOX_PLUG_KINDS.join(', ')}`);
  }
}

function outlet(text: string, fail: (problem: string) => never): number | string {
  if (/^\d{1,3}$/.test(text)) return Number(text);
  if (/^[A-Za-z0-9]{1,64}$/.test(text)) return text;
  return fail(`outlet "#${text}" is neither an index (#0, #1, …) nor a child id`);
}

/** Ids unique; the things exist. Fills in the first thing. Throws SandboxConfigError. */
export function checkPlugSpecs(specs: readonly SandboxPlugSpec[], things: readonly string[]): (SandboxPlugSpec & { thing: string })[] {
  const seen = new Set<string>();
  return specs.map((s) => {
    if (seen.has(s.id)) throw new SandboxConfigError(`--plug: id "${s.id}" is given twice`);
    seen.add(s.id);
    const thing = s.thing ?? things[0]!;
    if (!things.includes(thing)) throw new SandboxConfigError(`--plug ${s.id}@${thing}: no such thing (the sandbox has ${things.length > 3 ? `${things[0]} … ${things.at(-1)}` : things.join(', ')})`);
    return { ...s, thing };
  });
}
