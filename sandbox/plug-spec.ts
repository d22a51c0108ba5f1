/**
 * `--plug`, one grammar in every command: `[id[@thing]=]<host[:port] or kind>[#outlet]`: a real plug
 * on the LAN or a simulated one of that kind, `#outlet` one outlet of a strip; no `id=` is `lamp`.
 */
import { PLUG_ID_PATTERN } from '../core/plug-relay/contract';
import { parseTarget } from '../core/button/targets';
import { SIMULATED_DEVICE_KINDS, KIND_PROTOCOLS, type SimulatedDeviceKind } from './plugs/simulated-devices';
import { sandboxConfigError } from './errors';

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

export const PLUG_SPEC_SHAPE = '[id[@thing]=]<host[:port] or kind>[#outlet]';

/** One `--plug` value as written: `id` and `thing` only when given; exactly one of `kind` and `address`. */
export type PlugSpec = Omit<SandboxPlugSpec, 'id'> & { id?: string };

/** Reads one `--plug` value; `fail` gets the problem (the caller's error names the flag and value). */
export function readPlugSpec(text: string, fail: (problem: string) => never): PlugSpec {
  const raw = text.trim();
  const eq = raw.indexOf('=');
  const spec: PlugSpec = {};
  if (eq >= 0) {
    const [id, thing] = raw.slice(0, eq).split('@') as [string, string | undefined];
    if (!PLUG_ID_PATTERN.test(id)) fail(`id "${id}" must match ${PLUG_ID_PATTERN.source} (expected ${PLUG_SPEC_SHAPE})`);
    if (thing !== undefined && !/^[a-zA-Z0-9:_-]{1,128}$/.test(thing)) fail(`"${thing}" is not a thing name`);
    spec.id = id;
    if (thing !== undefined) spec.thing = thing;
  }
  const value = raw.slice(eq + 1);
  const hash = value.indexOf('#');
  const device = (hash < 0 ? value : value.slice(0, hash)).toLowerCase();
  if ((SANDBOX_PLUG_KINDS as readonly string[]).includes(device)) {
    spec.kind = device as SandboxPlugKind;
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

/** One `--plug` of the sandbox (no id: the plug `lamp`). Throws sandboxConfigError naming the flag and the value. */
export function parsePlugSpec(text: string): SandboxPlugSpec {
  const spec = readPlugSpec(text, (problem) => {
    throw sandboxConfigError(`--plug "${text.trim()}": ${problem}`);
  });
  return { ...spec, id: spec.id ?? DEFAULT_PLUG_ID };
}

function address(text: string, fail: (problem: string) => never): { host: string; port: number; child?: number | string } {
  try {
    return parseTarget(text);
  } catch (err) {
    return fail(`${(err as Error).message}; expected ${PLUG_SPEC_SHAPE} with a kind among ${SANDBOX_PLUG_KINDS.join(', ')}`);
  }
}

function outlet(text: string, fail: (problem: string) => never): number | string {
  if (/^\d{1,3}$/.test(text)) return Number(text);
  if (/^[A-Za-z0-9]{1,64}$/.test(text)) return text;
  return fail(`outlet "#${text}" is neither an index (#0, #1, …) nor a child id`);
}

/** Ids unique; the things exist. Fills in the first thing. Throws SANDBOX_CONFIG errors. */
export function checkPlugSpecs(specs: readonly SandboxPlugSpec[], things: readonly string[]): (SandboxPlugSpec & { thing: string })[] {
  const seen = new Set<string>();
  return specs.map((s) => {
    if (seen.has(s.id)) throw sandboxConfigError(`--plug: id "${s.id}" is given twice`);
    seen.add(s.id);
    const thing = s.thing ?? things[0]!;
    if (!things.includes(thing)) throw sandboxConfigError(`--plug ${s.id}@${thing}: no such thing (the sandbox has ${things.length > 3 ? `${things[0]} … ${things.at(-1)}` : things.join(', ')})`);
    return { ...s, thing };
  });
}
