/**
 * The stack's configuration, read from CDK context (cdk.json defaults, `-c key=value` overrides) and
 * validated before any construct is built. Pure: no CDK, no I/O — a `read(key)` function is all it needs,
 * so tests feed it plain objects. Every failure is a ContextError naming the key.
 *
 * `-c` values always arrive as strings, cdk.json values may be JSON numbers, booleans, arrays or
 * objects: each reader accepts both.
 */
import { ContextError } from './errors';
import { isValidHost } from '../core/tplink/address';

export const CLICK_TYPES = ['SINGLE', 'DOUBLE', 'LONG'] as const;
export type ClickType = (typeof CLICK_TYPES)[number];
export const CLICK_ACTIONS = ['toggle', 'on', 'off', 'none'] as const;
export type ClickAction = (typeof CLICK_ACTIONS)[number];

export interface StackSettings {
  /** The plug every button switches unless `buttonTargets` names others for its serial. */
  plugHost: string;
  plugPort: number;
  /**
   * Button serial → the plugs that button switches, each `host[:port][#outlet]`. Checked in
   * detail by the button function's own configuration builder (see function-settings.ts).
   */
  buttonTargets: Record<string, string[]>;
  /** What each click type does (default: every click toggles, as in the seed article). */
  clickActions: Record<ClickType, ClickAction>;
  /** MQTT topic filter the topic rule listens on (default `iotbutton/+`). */
  buttonTopicFilter: string;
  /** Clicks older than this are not acted on (the button Lambda's default when absent). */
  maxClickAgeSeconds?: number;
  /** A button reporting less than this many millivolts is announced as low on battery. */
  lowBatteryMillivolts?: number;
  /** The devices (IoT things) that receive uploaded files. At least one. */
  thingNames: string[];
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
}

/** Reads one context key; undefined when it is not set anywhere. */
export type ContextReader = (key: string) => unknown;

/** Every key this stack reads: anything else in cdk.json is CDK's own business. */
export const CONTEXT_KEYS = [
  'plugHost',
  'plugPort',
  'buttonTargets',
  'clickActions',
  'buttonTopicFilter',
  'maxClickAgeSeconds',
  'lowBatteryMillivolts',
  'thingName',
  'thingNames',
  'shadowProperty',
  'shadowName',
  'keyPrefix',
  'scopeObjectsPerThing',
  'certificateArn',
  'notifyEmail',
  'credentialDurationSeconds',
] as const;

/**
 * A context key that differs from one of ours only in case or dashes (`-c plughost=…`,
 * `-c plug-host=…`) would be ignored silently and the default used: refuse it instead.
 */
export function checkContextKeys(keys: readonly string[]): void {
  const squash = (k: string) => k.toLowerCase().replace(/[-_]/g, '');
  for (const key of keys) {
    if ((CONTEXT_KEYS as readonly string[]).includes(key)) continue;
    const meant = CONTEXT_KEYS.find((known) => squash(known) === squash(key));
    if (meant !== undefined) throw new ContextError(key, `is not a setting; did you mean "${meant}"?`);
  }
}

export function parseStackSettings(read: ContextReader): StackSettings {
  const plugHost = requiredString(read, 'plugHost');
  checkHost('plugHost', plugHost);
  const plugPort = port(read, 'plugPort', 9999);
  const thingNames = parseThingNames(read);
  const shadowName = optionalString(read, 'shadowName');
  if (shadowName !== undefined && !/^[a-zA-Z0-9:_-]{1,64}$/.test(shadowName)) {
    throw new ContextError('shadowName', `"${shadowName}" is not a shadow name (1–64 of a-z A-Z 0-9 : _ -)`);
  }
  const shadowProperty = optionalString(read, 'shadowProperty') ?? 's3';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(shadowProperty)) {
    throw new ContextError('shadowProperty', `"${shadowProperty}" must be 1–64 of A-Z a-z 0-9 _ -`);
  }
  const notifyEmail = optionalString(read, 'notifyEmail');
  if (notifyEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(notifyEmail)) {
    throw new ContextError('notifyEmail', `"${notifyEmail}" is not an email address`);
  }
  return {
    plugHost,
    plugPort,
    buttonTargets: parseButtonTargets(read),
    clickActions: parseClickActions(read),
    buttonTopicFilter: parseTopicFilter(read),
    maxClickAgeSeconds: optionalInteger(read, 'maxClickAgeSeconds', 1, 86_400),
    lowBatteryMillivolts: optionalInteger(read, 'lowBatteryMillivolts', 1, 10_000),
    thingNames,
    shadowProperty,
    shadowName,
    keyPrefix: parseKeyPrefix(read),
    scopeObjectsPerThing: bool(read, 'scopeObjectsPerThing', false),
    certificates: parseCertificates(read, thingNames),
    notifyEmail,
    credentialDurationSeconds: optionalInteger(read, 'credentialDurationSeconds', 900, 43_200) ?? 3600,
  };
}

// ---- scalar readers ----

function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function optionalString(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (isUnset(value)) return undefined;
  if (typeof value !== 'string') throw new ContextError(key, `expected a string, got ${JSON.stringify(value)}`);
  return value.trim();
}

function requiredString(read: ContextReader, key: string): string {
  const value = optionalString(read, key);
  if (value === undefined || value === '') throw new ContextError(key, `is required (pass -c ${key}=...)`);
  return value;
}

function optionalInteger(read: ContextReader, key: string, min: number, max: number): number | undefined {
  const value = read(key);
  if (isUnset(value)) return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ContextError(key, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function port(read: ContextReader, key: string, fallback: number): number {
  return optionalInteger(read, key, 1, 65_535) ?? fallback;
}

function bool(read: ContextReader, key: string, fallback: boolean): boolean {
  const value = read(key);
  if (isUnset(value)) return fallback;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ContextError(key, `expected true or false, got ${JSON.stringify(value)}`);
}

/** A JSON context value: already parsed in cdk.json, a JSON string on the command line. */
function json(read: ContextReader, key: string): unknown {
  const value = read(key);
  if (typeof value !== 'string') return value;
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('[')) return value;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ContextError(key, `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

// ---- hosts and buttons ----

/** RFC 5737 documentation ranges: placeholders, never a real plug. */
export function isDocumentationAddress(host: string): boolean {
  return /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d{1,3}$/.test(host);
}

function checkHost(key: string, host: string): void {
  if (!isValidHost(host)) {
    throw new ContextError(key, `"${host}" is not a host name or IPv4 address (no scheme, no port, no path)`);
  }
}

/** `{"<serial>": "host[:port][#outlet]" | ["...", ...]}`; the targets' syntax is checked downstream. */
function parseButtonTargets(read: ContextReader): Record<string, string[]> {
  const key = 'buttonTargets';
  const value = json(read, key);
  if (isUnset(value)) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContextError(key, 'expected a JSON object {"<button serial>": "host[:port][#outlet]" or [targets]}');
  }
  const result: Record<string, string[]> = {};
  for (const [serial, raw] of Object.entries(value)) {
    const list: unknown[] = Array.isArray(raw) ? raw : [raw];
    if (list.length === 0 || !list.every((t): t is string => typeof t === 'string' && t.trim() !== '')) {
      throw new ContextError(key, `button ${serial}: expected "host[:port][#outlet]" or a non-empty list of them`);
    }
    result[serial] = list.map((t) => t.trim());
  }
  return result;
}

// ---- clicks ----

/** `{"SINGLE":"toggle","DOUBLE":"on"}` or `SINGLE=toggle,DOUBLE=on`; types left out keep `toggle`. */
function parseClickActions(read: ContextReader): Record<ClickType, ClickAction> {
  const key = 'clickActions';
  const actions: Record<ClickType, ClickAction> = { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' };
  let value = json(read, key);
  if (isUnset(value)) return actions;
  if (typeof value === 'string') {
    const pairs = value.split(',').map((pair) => pair.split('=').map((s) => s.trim()));
    if (pairs.some((p) => p.length !== 2)) throw new ContextError(key, `"${value}" is not TYPE=action[,TYPE=action]`);
    value = Object.fromEntries(pairs);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ContextError(key, 'expected {"SINGLE"|"DOUBLE"|"LONG": "toggle"|"on"|"off"|"none"}');
  }
  for (const [type, action] of Object.entries(value)) {
    const upper = type.toUpperCase();
    if (!(CLICK_TYPES as readonly string[]).includes(upper)) {
      throw new ContextError(key, `unknown click type "${type}" (expected ${CLICK_TYPES.join(', ')})`);
    }
    if (typeof action !== 'string' || !(CLICK_ACTIONS as readonly string[]).includes(action)) {
      throw new ContextError(key, `unknown click action ${JSON.stringify(action)} for ${upper} (expected ${CLICK_ACTIONS.join(', ')})`);
    }
    actions[upper as ClickType] = action as ClickAction;
  }
  return actions;
}

/**
 * An MQTT topic filter for the rule's FROM clause: `+` and `#` only as whole levels, `#` last,
 * no quote (it is spliced into the SQL), and not a reserved `$` topic.
 */
function parseTopicFilter(read: ContextReader): string {
  const key = 'buttonTopicFilter';
  const filter = optionalString(read, key) ?? 'iotbutton/+';
  const levels = filter.split('/');
  const bad =
    filter.length === 0 ||
    filter.length > 256 ||
    filter.startsWith('$') ||
    /['"\\\s]/.test(filter) ||
    levels.some((level, i) => (level.includes('+') && level !== '+') || (level.includes('#') && (level !== '#' || i !== levels.length - 1)));
  if (bad) throw new ContextError(key, `"${filter}" is not an MQTT topic filter like iotbutton/+`);
  return filter;
}

// ---- devices and files ----

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
export const DEFAULT_THING_NAME = 'shadowplug-device';

/** `thingName` (one) or `thingNames` (JSON array or comma-separated); not both. */
function parseThingNames(read: ContextReader): string[] {
  const single = optionalString(read, 'thingName');
  const many = json(read, 'thingNames');
  if (single !== undefined && !isUnset(many)) {
    throw new ContextError('thingNames', 'set either thingName or thingNames, not both');
  }
  const key = single !== undefined ? 'thingName' : 'thingNames';
  let names: unknown[];
  if (single !== undefined) names = [single];
  // The default lives here, not in cdk.json: a cdk.json thingName would collide with -c thingNames=a,b.
  else if (isUnset(many)) names = [DEFAULT_THING_NAME];
  else if (Array.isArray(many)) names = many;
  else if (typeof many === 'string') names = many.split(',').map((s) => s.trim());
  else throw new ContextError(key, 'expected a list of thing names');
  if (names.length === 0) throw new ContextError(key, 'needs at least one thing name');
  // Each thing adds resources and outputs (CloudFormation allows 200 outputs); past 50 use a fleet tool.
  if (names.length > 50) throw new ContextError(key, `has ${names.length} names, at most 50 are supported`);
  for (const name of names) {
    if (typeof name !== 'string' || !THING_NAME.test(name)) {
      throw new ContextError(key, `${JSON.stringify(name)} is not a thing name (1–128 of a-z A-Z 0-9 : _ -)`);
    }
  }
  const strings = names as string[];
  const dup = strings.find((n, i) => strings.indexOf(n) !== i);
  if (dup !== undefined) throw new ContextError(key, `"${dup}" is listed twice`);
  return strings;
}

function parseKeyPrefix(read: ContextReader): string {
  const key = 'keyPrefix';
  const prefix = optionalString(read, key) ?? '';
  if (prefix.startsWith('/')) throw new ContextError(key, `"${prefix}" must not start with "/" (S3 keys have no leading slash)`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[*?\u0000-\u001f]/.test(prefix)) throw new ContextError(key, `"${prefix}" must not contain wildcards or control characters`);
  if (Buffer.byteLength(prefix) > 1024) throw new ContextError(key, 'is longer than an S3 key may be (1024 bytes)');
  return prefix;
}

const CERTIFICATE_ARN = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:cert\/[0-9a-f]{64}$/;

/** One ARN (with exactly one thing) or a JSON object thing name → ARN. */
function parseCertificates(read: ContextReader, thingNames: string[]): Record<string, string> {
  const key = 'certificateArn';
  const value = json(read, key);
  if (isUnset(value)) return {};
  let map: Record<string, unknown>;
  if (typeof value === 'string') {
    if (thingNames.length !== 1) {
      throw new ContextError(key, `one ARN cannot serve ${thingNames.length} things: give {"<thing>": "<arn>", ...}`);
    }
    map = { [thingNames[0] as string]: value };
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    map = value as Record<string, unknown>;
  } else {
    throw new ContextError(key, 'expected a certificate ARN or {"<thing>": "<arn>"}');
  }
  for (const [thing, arn] of Object.entries(map)) {
    if (!thingNames.includes(thing)) throw new ContextError(key, `names thing "${thing}", which is not in thingName/thingNames`);
    if (typeof arn !== 'string' || !CERTIFICATE_ARN.test(arn)) {
      throw new ContextError(key, `${JSON.stringify(arn)} is not an IoT certificate ARN (arn:aws:iot:<region>:<account>:cert/<64 hex>)`);
    }
  }
  return map as Record<string, string>;
}
