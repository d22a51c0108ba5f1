/**
 * The stack's configuration, read from CDK context (cdk.json defaults, `-c key=value` overrides)
 * through the one table of context keys (core/settings/stack.ts) and validated before any
 * construct is built. Pure: no CDK, no I/O — a `read(key)` function is all it needs, so tests feed
 * it plain objects. Every failure is a ContextError naming the key.
 */
import type { ClickActions, PlugMode } from '../core/button/settings';
import type { PlugTarget, TargetRef } from '../core/button/targets';
import { plugForTarget, resolveTarget, type PlugConfig } from '../core/plug-relay/config';
import { attempt, coerceValue, type Setting } from '../core/settings/schema';
import { STACK_SETTINGS, type StackSettingName } from '../core/settings/stack';
import { ContextError } from './errors';

export interface StackSettings {
  /** The plug every button switches unless `buttonTargets` names others for its serial. */
  plugHost: string;
  plugPort: number;
  /** Instead of plugHost:plugPort: the plug(s) every button without its own entry switches (ids resolved). */
  defaultTargets?: PlugTarget[];
  /** Button serial → the plugs that button switches (ids resolved to the configured plugs). */
  buttonTargets: Record<string, PlugTarget[]>;
  /** What each click type does (default: every click toggles, as in the seed article). */
  clickActions: ClickActions;
  /** `relay` (default): through each plug's shadow and its hub's agent; `direct`: TCP from the function. */
  plugMode: PlugMode;
  /** The plugs, each with its hub thing; targets name them by id (relay default: one plug `plug` at plugHost:plugPort on the first thing). */
  plugs: PlugConfig[];
  /** Direct mode: the Secrets Manager secret (name or ARN) with the TP-Link account credentials. */
  plugCredentialsSecret?: string;
  /** MQTT topic filter the topic rule listens on (default `iotbutton/+`). */
  buttonTopicFilter: string;
  /** Clicks older than this are not acted on (the button Lambda's default when absent). */
  maxClickAgeSeconds?: number;
  /** A button reporting less than this many millivolts is announced as low on battery. */
  lowBatteryMillivolts?: number;
  /** The devices (IoT things) that receive uploaded files. At least one. */
  thingNames: string[];
  /** Thing groups whose members receive files too (resolved per upload; empty: none). */
  thingGroups: string[];
  /** The fan-out worker's shadow writes per second (with thingGroups). */
  fanOutWritesPerSecond: number;
  /** The shadow property the S3 Lambda writes and the agent reads (default `s3`). */
  shadowProperty: string;
  /** A named shadow instead of the classic one. */
  shadowName?: string;
  /** Only keys under this prefix trigger the S3 Lambda (default: the whole bucket). */
  keyPrefix: string;
  /** Devices may read only `things/<their thing name>/...` objects. */
  scopeObjectsPerThing: boolean;
  /** Thing name → existing certificate ARN to attach the device policy and the thing to. */
  certificates: Record<string, string>;
  /** An email address subscribed to the outcomes topic (confirm the subscription mail). */
  notifyEmail?: string;
  /** Lifetime of the device's temporary AWS credentials, 900–43200 s. */
  credentialDurationSeconds: number;
  /** Active X-Ray tracing for both functions (opt-in: traces cost money). */
  tracing: boolean;
}

/** Reads one context key; undefined when it is not set anywhere. */
export type ContextReader = (key: string) => unknown;

/** Every key this stack reads: anything else in cdk.json is CDK's own business. */
export const CONTEXT_KEYS: readonly string[] = Object.values(STACK_SETTINGS).map((s) => s.context);

/**
 * A context key that differs from one of ours only in case or dashes (`-c plughost=…`,
 * `-c plug-host=…`) would be ignored silently and the default used: refuse it instead.
 */
export function checkContextKeys(keys: readonly string[]): void {
  const squash = (k: string) => k.toLowerCase().replace(/[-_]/g, '');
  for (const key of keys) {
    if (CONTEXT_KEYS.includes(key)) continue;
    const meant = CONTEXT_KEYS.find((known) => squash(known) === squash(key));
    if (meant !== undefined) throw new ContextError(key, `is not a setting; did you mean "${meant}"?`);
  }
}

type Value<K extends StackSettingName> = ReturnType<(typeof STACK_SETTINGS)[K]['parse']>;

/** One key through its setting's codec; absent → the setting's default (maybe undefined). An empty `-c key=` is a value, checked like any other. */
function readKey<K extends StackSettingName>(read: ContextReader, key: K): Value<K> | undefined {
  const s = STACK_SETTINGS[key] as Setting<Value<K>> & { context: string };
  const raw = read(s.context);
  if (raw === undefined || raw === null) return s.default;
  return attempt(
    () => coerceValue(s, raw),
    (problem, cause) => {
      throw new ContextError(s.context, problem, { cause });
    },
  );
}

function required<K extends StackSettingName>(read: ContextReader, key: K): Value<K> {
  const value = readKey(read, key);
  if (value === undefined) throw new ContextError(key, `is required (pass -c ${key}=...)`);
  return value;
}

export function parseStackSettings(read: ContextReader): StackSettings {
  const get = <K extends StackSettingName>(key: K) => readKey(read, key);
  const thingNames = parseThingNames(read);
  const settings: StackSettings = {
    plugHost: required(read, 'plugHost'),
    plugPort: required(read, 'plugPort'),
    buttonTargets: {},
    clickActions: required(read, 'clickActions'),
    buttonTopicFilter: required(read, 'buttonTopicFilter'),
    thingNames,
    thingGroups: readKey(read, 'thingGroups') ?? [],
    fanOutWritesPerSecond: required(read, 'fanOutWritesPerSecond'),
    shadowProperty: required(read, 'shadowProperty'),
    keyPrefix: required(read, 'keyPrefix'),
    scopeObjectsPerThing: required(read, 'scopeObjectsPerThing'),
    certificates: parseCertificates(get('certificateArn'), thingNames),
    credentialDurationSeconds: required(read, 'credentialDurationSeconds'),
    plugMode: required(read, 'plugMode'),
    plugs: [],
    tracing: required(read, 'tracing'),
  };
  const refs = { defaultTargets: get('defaultTargets'), buttonTargets: required(read, 'buttonTargets') };
  settings.plugs = parsePlugs(get('plugs'), settings, refs);
  const resolve = (key: 'defaultTargets' | 'buttonTargets', list: TargetRef[], serial?: string) =>
    list.map((ref) => {
      try {
        return resolveTarget(ref, settings.plugs, settings.plugMode);
      } catch (err) {
        throw new ContextError(key, `${serial === undefined ? '' : `serial ${serial}: `}${(err as Error).message}`, { cause: err });
      }
    });
  if (refs.defaultTargets !== undefined && refs.defaultTargets.length > 0) settings.defaultTargets = resolve('defaultTargets', refs.defaultTargets);
  settings.buttonTargets = Object.fromEntries(Object.entries(refs.buttonTargets).map(([serial, list]) => [serial, resolve('buttonTargets', list, serial)]));
  const secret = get('plugCredentialsSecret');
  if (secret !== undefined && secret !== '' && settings.plugMode === 'relay') {
    // Refused, not ignored: the owner would believe the function uses it, and it would get a grant it never needs.
    throw new ContextError('plugCredentialsSecret', 'is for plugMode=direct: in relay mode the agent on the LAN holds the plug credentials (docs/plug-relay.md), and the function needs none');
  }
  const optional = { plugCredentialsSecret: secret || undefined, maxClickAgeSeconds: get('maxClickAgeSeconds'), lowBatteryMillivolts: get('lowBatteryMillivolts'), shadowName: get('shadowName'), notifyEmail: get('notifyEmail') };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(settings, { [key]: value });
  return settings;
}

export const DEFAULT_THING_NAME = 'shadowplug-device';
export const DEFAULT_PLUG_ID = 'plug';

/** No `plugs` given: the default plug and every button target given by address are plugs on the first thing (`plug`, `plug-2`, ...). */
function defaultPlugs(targets: PlugTarget[], hub: string): PlugConfig[] {
  const plugs: PlugConfig[] = [];
  for (const t of targets) {
    if (plugForTarget(plugs, t)) continue;
    plugs.push({ id: plugs.length === 0 ? DEFAULT_PLUG_ID : `${DEFAULT_PLUG_ID}-${plugs.length + 1}`, hub, ...t });
  }
  return plugs;
}

/**
 * The plugs. Direct mode: as given (targets may name them by id; the hub is unused). Relay mode:
 * as given, or by default one per address target; each hub a thing of this stack. Whether every
 * target is one of them is checked when the targets are resolved.
 */
function parsePlugs(given: PlugConfig[] | undefined, s: StackSettings, refs: { defaultTargets?: TargetRef[]; buttonTargets: Record<string, TargetRef[]> }): PlugConfig[] {
  if (s.plugMode === 'direct') return given ?? [];
  const addresses = [...(refs.defaultTargets ?? []), ...Object.values(refs.buttonTargets).flat()].flatMap((r) => (r.id === undefined && r.address ? [r.address] : []));
  const plugHostTarget = refs.defaultTargets?.length ? [] : [{ host: s.plugHost, port: s.plugPort }];
  const plugs = given !== undefined && given.length > 0 ? given : defaultPlugs([...plugHostTarget, ...addresses], s.thingNames[0]!);
  const stranger = plugs.find((p) => !s.thingNames.includes(p.hub));
  if (stranger) throw new ContextError('plugs', `plug ${stranger.id}'s hub "${stranger.hub}" is not in thingName/thingNames`);
  for (const t of plugHostTarget) {
    try {
      resolveTarget({ address: t }, plugs, 'relay');
    } catch (err) {
      throw new ContextError('plugs', `${(err as Error).message} (plugHost:plugPort is the default target; or set defaultTargets to plug ids)`, { cause: err });
    }
  }
  return plugs;
}

/** `thingName` (one) or `thingNames` (a list); not both; neither: the default thing. */
function parseThingNames(read: ContextReader): string[] {
  const single = readKey(read, 'thingName');
  const many = readKey(read, 'thingNames');
  if (single !== undefined && many !== undefined) throw new ContextError('thingNames', 'set either thingName or thingNames, not both');
  if (single !== undefined) return [single];
  // The default lives here, not in cdk.json: a cdk.json thingName would collide with -c thingNames=a,b.
  return many ?? [DEFAULT_THING_NAME];
}

/** One ARN serves the only thing; a map must name things of this stack. */
function parseCertificates(value: string | Record<string, string> | undefined, thingNames: string[]): Record<string, string> {
  const key = 'certificateArn';
  if (value === undefined) return {};
  if (typeof value === 'string') {
    if (thingNames.length !== 1) throw new ContextError(key, `one ARN cannot serve ${thingNames.length} things: give {"<thing>": "<arn>", ...}`);
    return { [thingNames[0]!]: value };
  }
  const stranger = Object.keys(value).find((thing) => !thingNames.includes(thing));
  if (stranger !== undefined) throw new ContextError(key, `names thing "${stranger}", which is not in thingName/thingNames`);
  return value;
}

/** RFC 5737 documentation ranges: placeholders, never a real plug. */
export function isDocumentationAddress(host: string): boolean {
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(host);
}
