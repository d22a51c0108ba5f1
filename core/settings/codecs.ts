/**
 * Codecs for the kinds of value settings hold: each reads text (environment, flag, `-c`) and, where
 * cdk.json or a settings object may hold it structured, a JSON value too; each throws
 * SettingValueError with the problem only (the reader names the source).
 */
import { LOG_LEVELS } from '../logger';
import { formatHostPort, parseHostPort } from '../util/host-port';
import { codec, setting, SettingValueError, type Codec } from './schema';

const quote = (value: unknown): string => JSON.stringify(value) ?? String(value);

export function integer(min: number, max: number): Codec<number> {
  const check = (n: number, given: unknown): number => {
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new SettingValueError(`expected a whole number from ${min} to ${max}, got ${quote(given)}`);
    }
    return n;
  };
  const parse = (text: string): number => check(/^\s*\d+\s*$/.test(text) ? Number(text) : NaN, text);
  return {
    parse,
    format: String,
    coerce: (value) => (typeof value === 'number' ? check(value, value) : typeof value === 'string' ? parse(value) : check(NaN, value)),
    range: [min, max],
  };
}

/** A whole number in range, or `Infinity` (the value meaning "always"). */
export function integerOrInfinity(min: number, max: number): Codec<number> {
  const whole = integer(min, max);
  const wrap = <A>(read: (a: A) => number) => (a: A): number => {
    try {
      return read(a);
    } catch (err) {
      if (err instanceof SettingValueError) throw new SettingValueError(`${err.problem.replace(/^expected/, 'expected Infinity or')}`, err);
      throw err;
    }
  };
  return {
    parse: wrap((text: string) => (text.trim() === 'Infinity' ? Infinity : whole.parse(text))),
    format: String,
    coerce: wrap((value: unknown) => (value === Infinity || value === 'Infinity' ? Infinity : whole.coerce!(value))),
    range: [min, max],
  };
}

export function boolean(): Codec<boolean> {
  const coerce = (value: unknown): boolean => {
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    throw new SettingValueError(`expected true or false, got ${quote(value)}`);
  };
  return { ...codec(coerce), parse: (text) => coerce(text.trim()) };
}

/** One of a fixed list; `fold` lower-cases the text first. */
export function oneOf<const V extends string>(values: readonly V[], fold = false): Codec<V> {
  const coerce = (value: unknown): V => {
    const text = typeof value === 'string' ? value.trim() : value;
    const key = fold && typeof text === 'string' ? text.toLowerCase() : text;
    if (typeof key !== 'string' || !(values as readonly string[]).includes(key)) {
      throw new SettingValueError(`${quote(value)} is not one of ${values.join(', ')}`);
    }
    return key as V;
  };
  return codec(coerce);
}

/** Any text (trimmed), checked by `check` which returns a problem or undefined. */
export function text(check: (text: string) => string | undefined = () => undefined): Codec<string> {
  const coerce = (value: unknown): string => {
    if (typeof value !== 'string') throw new SettingValueError(`expected a string, got ${quote(value)}`);
    const t = value.trim();
    const problem = check(t);
    if (problem !== undefined) throw new SettingValueError(problem);
    return t;
  };
  return codec(coerce);
}

/** Text matching `pattern`; `what` says what it should be ("a shadow name (1–64 of ...)"). */
export function matching(pattern: RegExp, what: string): Codec<string> {
  return text((t) => (pattern.test(t) ? undefined : `"${t}" is not ${what}`));
}

/** Text that starts with `{` or `[`: JSON (cdk.json holds it parsed; `-c` and variables as text). */
export function jsonText(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return text;
  try {
    return JSON.parse(t) as unknown;
  } catch (err) {
    throw new SettingValueError(`is not valid JSON: ${(err as Error).message}`, err);
  }
}

/** A list of `item`s: a JSON array or comma-separated text; duplicates refused. */
export function listOf(item: Codec<string>, limits: { min: number; max: number; noun: string }): Codec<string[]> {
  const coerce = (value: unknown): string[] => {
    const raw = typeof value === 'string' ? jsonText(value) : value;
    const list: unknown[] = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',').map((s) => s.trim()).filter((s) => s !== '') : [raw];
    if (typeof raw !== 'string' && !Array.isArray(raw)) throw new SettingValueError(`expected a list of ${limits.noun}s`);
    if (list.length < limits.min) throw new SettingValueError(`needs at least ${limits.min} ${limits.noun}`);
    if (list.length > limits.max) throw new SettingValueError(`has ${list.length} ${limits.noun}s, at most ${limits.max} are supported`);
    const items = list.map((v) => item.coerce!(v));
    const dup = items.find((n, i) => items.indexOf(n) !== i);
    if (dup !== undefined) throw new SettingValueError(`"${dup}" is listed twice`);
    return items;
  };
  return codec(coerce, (v) => v.join(','));
}

/** `1048576`, `500MiB`, `2GB`, `1.5g` → bytes (KiB/MiB/k/m: powers of 1024; KB/MB: of 1000). */
export function byteSize(): Codec<number> {
  // Built with the codec: a top-level table of `**` expressions would stay in every bundle, used or not.
  const SIZE_UNITS: Record<string, number> = {
    '': 1, b: 1,
    k: 1024, kib: 1024, kb: 1000,
    m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
    g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
    t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
  };
  const coerce = (value: unknown): number => {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
    const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null;
    const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
    if (!m || unit === undefined) throw new SettingValueError(`${quote(value)} is not a size (bytes, or with KiB/MiB/GiB/KB/MB/GB)`);
    const bytes = Math.floor(Number(m[1]) * unit);
    if (!Number.isSafeInteger(bytes)) throw new SettingValueError(`${quote(value)} is too large`);
    return bytes;
  };
  return codec(coerce);
}

/** `host[:port]` (IPv6 in brackets); the port defaults to `defaultPort`. */
export function endpoint(defaultPort: number): Codec<{ host: string; port: number }> {
  const coerce = (value: unknown): { host: string; port: number } => {
    const parsed = parseHostPort(typeof value === 'string' ? value : '', defaultPort);
    if (parsed === 'host' || (parsed !== 'port' && parsed.host.includes('/'))) throw new SettingValueError(`${quote(value)} is not host[:port]`);
    if (parsed === 'port') throw new SettingValueError(`${quote(value)}: the port must be 1..65535`);
    return parsed;
  };
  return codec(coerce, ({ host, port }) => formatHostPort(host, port));
}

/** MQTT endpoints (the agent's broker, `click --endpoint`): `host[:port]`, mutual TLS on 8883 unless given. */
export const MQTT_PORT = 8883;

/** The log-level setting, the same for every function and command; its text apart (the button's bundle does not carry it). */
export const logLevelSetting = setting(oneOf(LOG_LEVELS, true), { env: true, flag: '--log-level <level>', default: 'info' as const });
export const LOG_LEVEL_TEXT = { description: 'How much to log: debug, info, warn, error or silent' };
