/**
 * The stack's configuration from CDK context through the one table of settings (core/settings/stack.ts),
 * validated before any construct is built. Pure; every failure is a ContextError naming the key.
 */
import type { PlugTarget, TargetRef } from '../core/button/targets';
import { plugForTarget, resolveTarget, type PlugConfig } from '../core/plug-relay/config';
import { attempt, coerceValue, type Setting, type Values } from '../core/settings/schema';
import { STACK_SETTINGS, type StackSettingName } from '../core/settings/stack';
import { ContextError } from './errors';

type ContextValues = Values<typeof STACK_SETTINGS>;

/** The context's values (the table's types), with the targets resolved to the plugs and the things and certificates settled. */
export type StackSettings = Omit<ContextValues, 'plugHost' | 'defaultTargets' | 'buttonTargets' | 'thingName' | 'thingNames' | 'certificateArn' | 'plugCredentialsSecret'> & {
  plugHost: string;
  /** Instead of plugHost:plugPort (ids resolved). */
  defaultTargets?: PlugTarget[];
  buttonTargets: Record<string, PlugTarget[]>;
  thingNames: string[];
  /** Neither thingName nor thingNames was given: thingNames is the stack's default thing. */
  defaultThing?: true;
  /** Thing name → existing certificate ARN. */
  certificates: Record<string, string>;
  plugCredentialsSecret?: string;
};

export type ContextReader = (key: string) => unknown;

/** Every key this stack reads: anything else in cdk.json is CDK's own business. */
export const CONTEXT_KEYS: readonly string[] = Object.keys(STACK_SETTINGS);

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

/** One key through its setting's codec; absent → the setting's default (maybe undefined). An empty `-c key=` is a value, checked like any other. */
function readKey(read: ContextReader, key: string): unknown {
  const s = STACK_SETTINGS[key as StackSettingName] as Setting<unknown>;
  const raw = read(key);
  if (raw === undefined || raw === null) return s.default;
  return attempt(
    () => coerceValue(s, raw),
    (problem, cause) => {
      throw new ContextError(key, problem, { cause });
    },
  );
}

/** Every key read and checked by its setting; then the things, the plugs and the targets settled. */
export function parseStackSettings(read: ContextReader): StackSettings {
  const v = Object.fromEntries(Object.keys(STACK_SETTINGS).map((key) => [key, readKey(read, key)])) as ContextValues;
  const { plugHost, defaultTargets, buttonTargets, thingName, thingNames: many, certificateArn, plugCredentialsSecret, ...rest } = v;
  if (plugHost === undefined) throw new ContextError('plugHost', 'is required (pass -c plugHost=...)');
  if (thingName !== undefined && many !== undefined) throw new ContextError('thingNames', 'set either thingName or thingNames, not both');
  // The default lives here, not in cdk.json: a cdk.json thingName would collide with -c thingNames=a,b.
  const thingNames = thingName !== undefined ? [thingName] : (many ?? [DEFAULT_THING_NAME]);
  const settings: StackSettings = { ...rest, plugHost, thingNames, buttonTargets: {}, certificates: parseCertificates(certificateArn, thingNames), ...(thingName === undefined && many === undefined ? { defaultThing: true as const } : {}) };
  for (const [key, value] of Object.entries(settings)) if (value === undefined) delete settings[key as keyof StackSettings];
  if (plugCredentialsSecret) settings.plugCredentialsSecret = plugCredentialsSecret;
  settings.plugs = parsePlugs(v.plugs, settings, { defaultTargets, buttonTargets });
  const resolve = (key: 'defaultTargets' | 'buttonTargets', list: TargetRef[], serial?: string) =>
    list.map((ref) => {
      try {
        return resolveTarget(ref, settings.plugs, settings.plugMode);
      } catch (err) {
        throw new ContextError(key, `${serial === undefined ? '' : `serial ${serial}: `}${(err as Error).message}`, { cause: err });
      }
    });
  if (defaultTargets !== undefined && defaultTargets.length > 0) settings.defaultTargets = resolve('defaultTargets', defaultTargets);
  settings.buttonTargets = Object.fromEntries(Object.entries(buttonTargets).map(([serial, list]) => [serial, resolve('buttonTargets', list, serial)]));
  const rollout = settings.rollout;
  if (rollout && (settings.keyPrefix === '' || rollout.keyPrefix.startsWith(settings.keyPrefix) || settings.keyPrefix.startsWith(rollout.keyPrefix))) {
    // S3 refuses two notifications of one event type on overlapping prefixes.
    throw new ContextError('rollout', `keyPrefix "${rollout.keyPrefix}" overlaps keyPrefix "${settings.keyPrefix}" of the shadow path: give the shadow path a prefix of its own (e.g. -c keyPrefix=files/)`);
  }
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
function parsePlugs(given: PlugConfig[], s: StackSettings, refs: { defaultTargets?: TargetRef[]; buttonTargets: Record<string, TargetRef[]> }): PlugConfig[] {
  if (s.plugMode === 'direct') return given;
  const addresses = [...(refs.defaultTargets ?? []), ...Object.values(refs.buttonTargets).flat()].flatMap((r) => (r.id === undefined && r.address ? [r.address] : []));
  const plugHostTarget = refs.defaultTargets?.length ? [] : [{ host: s.plugHost, port: s.plugPort }];
  const plugs = given.length > 0 ? given : defaultPlugs([...plugHostTarget, ...addresses], s.thingNames[0]!);
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
