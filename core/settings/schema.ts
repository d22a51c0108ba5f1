/**
 * The shape of a declarative setting: one entry per setting holds every name it goes by (settings
 * field, environment variable, CDK context key, command-line flag), its type, unit, range,
 * default and description, and the codec that reads and writes it. The function environments,
 * the context parsing, the CLI flags and the docs tables are all derived from these entries.
 * Pure: no CDK, no I/O.
 */
import { SettingValueError } from './errors';

export interface Codec<T> {
  /** Text (an environment variable, a flag, a `-c` value) → value. Throws SettingValueError. */
  parse(text: string): T;
  /** Value → the text `parse` reads back (what goes into an environment variable). */
  format(value: T): string;
  /** A structured value (cdk.json JSON, a settings object's field) → value. Default: text only. */
  coerce?(value: unknown): T;
}

export interface SettingMeta<T> {
  /** The environment variable a function reads it from (declared in env-names.ts). */
  env?: string;
  /** The CDK context key (cdk.json, `-c key=value`). */
  context?: string;
  /** For a context key: the function variable its value ends up in. */
  feeds?: string;
  /** The command-line flag, in commander's syntax (`--click-actions <map>`). */
  flag?: string;
  /** Other spellings of the flag that are accepted but not shown (the seed program's snake_case). */
  aliases?: readonly string[];
  /** What kind of value, for people: `integer`, `host[:port][#outlet] list`, ... */
  type: string;
  unit?: string;
  range?: readonly [min: number, max: number];
  default?: T;
  /** The default as the docs should show it, when `format(default)` does not read well. */
  defaultText?: string;
  description: string;
}

export type Setting<T> = Codec<T> & SettingMeta<T>;

/** A setting; the meta's exact shape is kept, so a declared `env` types as `string`, not optional. */
export function setting<T, M extends SettingMeta<T>>(codec: Codec<T>, meta: M): Codec<T> & M {
  return { ...codec, ...meta };
}


/** Values absent in every source: an unset variable, an empty `-c key=`, JSON null. */
export function isUnset(value: unknown): value is undefined | null | '' {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** A structured or text value → the setting's value (throws SettingValueError). */
export function coerceValue<T>(s: Codec<T>, value: unknown): T {
  if (s.coerce !== undefined) return s.coerce(value);
  if (typeof value === 'string') return s.parse(value);
  throw new SettingValueError(`expected text, got ${JSON.stringify(value)}`);
}

/** Runs `fn`; a SettingValueError becomes whatever `fail` throws for it (naming the source). */
export function attempt<T>(fn: () => T, fail: (problem: string, cause: unknown) => never): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SettingValueError) return fail(err.problem, err);
    throw err;
  }
}

/** An unset value → the default; otherwise parsed, failures named by `fail`. */
export function readText<T>(s: Setting<T>, text: string | undefined, fail: (problem: string, cause: unknown) => never): T | undefined {
  if (isUnset(text)) return s.default;
  return attempt(() => s.parse(text), fail);
}

/** The default as text for people (docs, `--help`). */
export function defaultText(s: Setting<unknown>): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  return s.default === undefined ? undefined : (s as Setting<unknown>).format(s.default);
}

/** The function variable a context key sets: its own, or the one it is made into. */
export function feedsOf(s: { feeds?: string; context?: string; env?: string }): string | undefined {
  return s.feeds ?? (s.context === undefined ? undefined : s.env);
}

/** A schema's settings as `[field, setting]` pairs, in declaration order. */
export function settingsOf(schema: object): [string, Setting<unknown>][] {
  return Object.entries(schema) as [string, Setting<unknown>][];
}

/** `{ field: ENV_NAME }` for every setting a function reads from its environment. */
export function envNamesOf<S extends Record<string, { env?: string }>>(schema: S): { [K in keyof S]: S[K]['env'] } {
  return Object.fromEntries(Object.entries(schema).map(([name, s]) => [name, s.env])) as { [K in keyof S]: S[K]['env'] };
}
