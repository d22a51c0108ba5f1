/**
 * The shape of a declarative setting: one entry per setting, keyed by its field name, holds its
 * codec, default, flag and text for people. Every other name it goes by is derived from the key:
 * the environment variable (`envName`), the CDK context key (the stack table's key), and the
 * TypeScript types of settings and configs (`Values`). Pure.
 */
import { ShadowplugError } from '../errors';

/**
 * A value that cannot be used. Carries only the problem: whoever read the value (the environment,
 * CDK context, a flag) wraps it in its own error naming the source.
 */
export class SettingValueError extends ShadowplugError {
  readonly problem: string;
  constructor(problem: string, cause?: unknown) {
    super(problem, { code: 'SETTING_INVALID', retryable: false, cause });
    this.problem = problem;
  }
}

export interface Codec<T> {
  /** Text (an environment variable, a flag, a `-c` value) → value. Throws SettingValueError. */
  parse(text: string): T;
  /** Value → the text `parse` reads back (what goes into an environment variable). */
  format(value: T): string;
  /** A structured value (cdk.json JSON, a settings object's field) → value. Default: text only. */
  coerce?(value: unknown): T;
  /** The bounds a number must be within (shown in the docs). */
  range?: readonly [min: number, max: number];
}

export interface SettingMeta<T> {
  /** A flag's value may also come from the environment variable `envName(field)`. */
  env?: true;
  /** For a stack context key: the function setting (by field name) its value ends up in. */
  feeds?: string;
  /** The command-line flag, in commander's syntax (`--click-actions <map>`). */
  flag?: string;
  /** Other spellings of the flag that are accepted but not shown (the seed program's snake_case). */
  aliases?: readonly string[];
  /** `switch`: a flag without a value. */
  type?: string;
  unit?: string;
  range?: readonly [min: number, max: number];
  default?: T;
  /** The default as the docs should show it, when `format(default)` does not read well. */
  defaultText?: string;
  description?: string;
}

export type Setting<T> = Codec<T> & SettingMeta<T>;

/** A codec from its reader of structured values (text goes through it too) and its writer. */
export function codec<T>(coerce: (value: unknown) => T, format: (value: T) => string = String): Codec<T> {
  return { parse: coerce, format, coerce };
}

/** A setting; the meta's exact shape is kept, so a declared default types the value as always present. */
export function setting<T, M extends SettingMeta<T>>(codec: Codec<T>, meta: M): Codec<T> & M {
  return { ...codec, ...meta };
}

/** A table's settings with their text for people (kept apart where a Lambda bundle must not carry it). */
export function withText<S extends object, X extends { [K in keyof S]: SettingMeta<unknown> }>(schema: S, text: X): { [K in keyof S]: S[K] & X[K] } {
  return Object.fromEntries(Object.entries(schema).map(([k, s]) => [k, { ...s, ...text[k as keyof S] }])) as { [K in keyof S]: S[K] & X[K] };
}

/** A table's values: each setting's parsed type, optional where it has no default. */
export type Values<S> = { -readonly [K in keyof S as S[K] extends { default: unknown } ? K : never]: S[K] extends Codec<infer T> ? T : never } & {
  -readonly [K in keyof S as S[K] extends { default: unknown } ? never : K]?: S[K] extends Codec<infer T> ? T : never;
};

/** What a builder takes: any field, as text or structured; the codecs check it. */
export type Inputs<S> = { [K in keyof S]?: unknown };

/** The environment variable of a function setting or an agent flag: `SHADOWPLUG_` and the field in capitals. */
export function envName(field: string): string {
  return `SHADOWPLUG_${field.replace(/MiB/g, 'Mib').replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** `{ field: ENV_NAME }` for every setting of a function's table. */
export function envNamesOf<S extends object>(schema: S): { [K in keyof S]: string } {
  return Object.fromEntries(Object.keys(schema).map((name) => [name, envName(name)])) as { [K in keyof S]: string };
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

/**
 * Settings given in code (the stack, the sandbox) → the function's environment, every value
 * spelled out (defaults included, so the deployed configuration reads in the console), and the
 * values, each checked by its codec; `fail` names the field.
 */
export function buildEnvironment(
  schema: object,
  given: Record<string, unknown>,
  fail: (field: string, problem: string, cause?: unknown) => never,
  keepEmpty: (field: string) => boolean = () => false,
): { env: Record<string, string>; values: Record<string, unknown> } {
  const env: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [name, s] of settingsOf(schema)) {
    const value = isUnset(given[name]) && !(keepEmpty(name) && given[name] !== undefined) ? s.default : attempt(() => coerceValue(s, given[name]), (problem, cause) => fail(name, problem, cause));
    values[name] = value;
    // An empty value (no default targets) is left out, as an unset variable reads the same.
    const text = value === undefined ? '' : s.format(value);
    if (text !== '' || (keepEmpty(name) && value !== undefined)) env[envName(name)] = text;
  }
  return { env, values };
}

/** Environment → each setting's value (unset: the default); `fail` names the variable. */
export function readEnvironment(schema: object, env: Record<string, string | undefined>, fail: (variable: string, problem: string, cause?: unknown) => never): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, s] of settingsOf(schema)) {
    const variable = envName(name);
    const text = env[variable];
    values[name] = isUnset(text) ? s.default : attempt(() => s.parse(text), (problem, cause) => fail(variable, problem, cause));
  }
  return values;
}

/** The default as text for people (docs, `--help`). */
export function defaultText(s: Setting<unknown>): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  return s.default === undefined ? undefined : s.format(s.default);
}

/** A schema's settings as `[field, setting]` pairs, in declaration order. */
export function settingsOf(schema: object): [string, Setting<unknown>][] {
  return Object.entries(schema) as [string, Setting<unknown>][];
}
