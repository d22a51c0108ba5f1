/**
 * The button Lambda's configuration: built from settings by `buttonFunctionEnvironment` (used by
 * the CDK stack and by the sandbox, so both configure the function the same way) and read back
 * by `parseButtonConfig` once at cold start. No CDK or AWS SDK imports: this file is bundled
 * into the Lambda.
 */
import type { LogLevel } from '../logger';
import { CLICK_TYPES, SERIAL_PATTERN, isClickAction, isClickType, type ClickAction, type ClickType } from './click';
import { ButtonConfigError } from './errors';
import { formatTarget, parseTarget, parseTargetList, type PlugTarget } from './targets';

/** The environment variables the function reads, by settings field. */
export const BUTTON_ENV = {
  defaultTargets: 'BUTTON_DEFAULT_TARGETS',
  serialTargets: 'BUTTON_SERIAL_TARGETS',
  clickActions: 'BUTTON_CLICK_ACTIONS',
  maxClickAgeMs: 'BUTTON_MAX_CLICK_AGE_MS',
  lowBatteryMv: 'BUTTON_LOW_BATTERY_MV',
  lowBatteryPercent: 'BUTTON_LOW_BATTERY_PERCENT',
  snsTopicArn: 'BUTTON_SNS_TOPIC_ARN',
  connectTimeoutMs: 'BUTTON_CONNECT_TIMEOUT_MS',
  requestTimeoutMs: 'BUTTON_REQUEST_TIMEOUT_MS',
  dedupeCapacity: 'BUTTON_DEDUPE_CAPACITY',
  logLevel: 'LOG_LEVEL',
} as const;

export type ButtonSettingName = keyof typeof BUTTON_ENV;

/** A target as text (`host[:port][#child]`) or already parsed. */
export type TargetSetting = string | PlugTarget;

/** What the stack (from CDK context) or the sandbox (from its options) knows. */
export interface ButtonSettings {
  /** Plug(s) for any button without its own entry in `serialTargets`. */
  defaultTargets?: TargetSetting | TargetSetting[];
  /** Per button serial: its plug(s). */
  serialTargets?: Record<string, TargetSetting | TargetSetting[]>;
  /** Per click type; a missing type toggles. */
  clickActions?: Partial<Record<ClickType, ClickAction>>;
  maxClickAgeMs?: number;
  lowBatteryMv?: number;
  lowBatteryPercent?: number;
  /** May be a CDK token (`topic.topicArn`): it is passed through unchecked at synth. */
  snsTopicArn?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  dedupeCapacity?: number;
  logLevel?: LogLevel;
}

/** The validated configuration the handler runs with. */
export interface ButtonConfig {
  defaultTargets: PlugTarget[];
  serialTargets: Record<string, PlugTarget[]>;
  clickActions: Record<ClickType, ClickAction>;
  /** A click received longer ago than this is not acted on. */
  maxClickAgeMs: number;
  /** Warn when the classic button reports less than this (0: never). */
  lowBatteryMv: number;
  /** Warn when an IoT 1-Click button reports less remaining life than this (0: never). */
  lowBatteryPercent: number;
  snsTopicArn?: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** How many request ids a warm container remembers. */
  dedupeCapacity: number;
  logLevel: LogLevel;
}

export const BUTTON_DEFAULTS = {
  clickAction: 'toggle' as ClickAction,
  maxClickAgeMs: 30_000,
  // An AAA alkaline cell reads ~1500 mV fresh under light load and is spent near 1100 mV; the
  // classic button reports ~1700 mV when new. Warn well before it stops sending.
  lowBatteryMv: 1300,
  lowBatteryPercent: 10,
  connectTimeoutMs: 2_000,
  requestTimeoutMs: 3_000,
  dedupeCapacity: 1_000,
  logLevel: 'info' as LogLevel,
};

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

const NUMBER_LIMITS: Record<
  'maxClickAgeMs' | 'lowBatteryMv' | 'lowBatteryPercent' | 'connectTimeoutMs' | 'requestTimeoutMs' | 'dedupeCapacity',
  [min: number, max: number]
> = {
  maxClickAgeMs: [1_000, 86_400_000],
  lowBatteryMv: [0, 10_000],
  lowBatteryPercent: [0, 100],
  connectTimeoutMs: [100, 60_000],
  requestTimeoutMs: [100, 60_000],
  dedupeCapacity: [1, 1_000_000],
};

function fail(name: string, problem: string, cause?: unknown): never {
  throw new ButtonConfigError(name, problem, cause);
}

function parseInteger(name: string, text: string | undefined, fallback: number, [min, max]: [number, number]): number {
  if (text === undefined || text.trim() === '') return fallback;
  const t = text.trim();
  if (!/^\d+$/.test(t)) fail(name, `"${text}" is not a whole number`);
  const n = Number(t);
  if (n < min || n > max) fail(name, `${n} is outside ${min}..${max}`);
  return n;
}

function parseTargetsText(name: string, text: string): PlugTarget[] {
  try {
    return parseTargetList(text);
  } catch (err) {
    return fail(name, (err as Error).message, err);
  }
}

function parseSerialTargets(name: string, text: string | undefined): Record<string, PlugTarget[]> {
  if (text === undefined || text.trim() === '') return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return fail(name, 'is not JSON (expected {"<serial>": "host[:port][#child],..." or [...]})', err);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(name, 'must be a JSON object of serial → target(s)');
  }
  const out: Record<string, PlugTarget[]> = {};
  for (const [serial, value] of Object.entries(raw as Record<string, unknown>)) {
    if (!SERIAL_PATTERN.test(serial)) fail(name, `serial "${serial}" has characters other than letters, digits, . _ : -`);
    let list: string;
    if (typeof value === 'string') list = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) list = value.join(',');
    else return fail(name, `serial ${serial}: expected a string or an array of strings`);
    out[serial] = parseTargetsText(`${name} (serial ${serial})`, list);
  }
  return out;
}

function parseClickActions(name: string, text: string | undefined): Record<ClickType, ClickAction> {
  const actions: Record<ClickType, ClickAction> = { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' };
  if (text === undefined || text.trim() === '') return actions;
  for (const pair of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const [type, action, extra] = pair.split('=').map((s) => s.trim());
    if (extra !== undefined || action === undefined) fail(name, `"${pair}" is not TYPE=action`);
    const upper = type!.toUpperCase();
    if (!isClickType(upper)) fail(name, `unknown click type "${type}" (expected ${CLICK_TYPES.join(', ')})`);
    const lower = action.toLowerCase();
    if (!isClickAction(lower)) fail(name, `unknown action "${action}" for ${upper} (expected toggle, on, off, none)`);
    actions[upper] = lower;
  }
  return actions;
}

/**
 * Reads and validates the configuration from the environment. Throws `ButtonConfigError`
 * naming the variable at fault; meant to run once at cold start so a bad deployment fails at init.
 */
export function parseButtonConfig(env: Record<string, string | undefined>): ButtonConfig {
  const E = BUTTON_ENV;
  const defaultText = env[E.defaultTargets];
  const defaultTargets =
    defaultText === undefined || defaultText.trim() === '' ? [] : parseTargetsText(E.defaultTargets, defaultText);
  const serialTargets = parseSerialTargets(E.serialTargets, env[E.serialTargets]);
  if (defaultTargets.length === 0 && Object.keys(serialTargets).length === 0) {
    fail(E.defaultTargets, `is not set and ${E.serialTargets} names no button: the function has no plug to switch`);
  }

  const snsText = env[E.snsTopicArn]?.trim();
  if (snsText !== undefined && snsText !== '' && !SNS_ARN.test(snsText)) {
    fail(E.snsTopicArn, `"${snsText}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  }

  const levelText = (env[E.logLevel] ?? '').trim().toLowerCase();
  if (levelText !== '' && !LOG_LEVELS.includes(levelText as LogLevel)) {
    fail(E.logLevel, `"${env[E.logLevel]}" is not one of ${LOG_LEVELS.join(', ')}`);
  }

  const num = (key: keyof typeof NUMBER_LIMITS) =>
    parseInteger(E[key], env[E[key]], BUTTON_DEFAULTS[key], NUMBER_LIMITS[key]);

  const config: ButtonConfig = {
    defaultTargets,
    serialTargets,
    clickActions: parseClickActions(E.clickActions, env[E.clickActions]),
    maxClickAgeMs: num('maxClickAgeMs'),
    lowBatteryMv: num('lowBatteryMv'),
    lowBatteryPercent: num('lowBatteryPercent'),
    connectTimeoutMs: num('connectTimeoutMs'),
    requestTimeoutMs: num('requestTimeoutMs'),
    dedupeCapacity: num('dedupeCapacity'),
    logLevel: levelText === '' ? BUTTON_DEFAULTS.logLevel : (levelText as LogLevel),
  };
  if (snsText !== undefined && snsText !== '') config.snsTopicArn = snsText;
  return config;
}

function targetsText(setting: string, value: TargetSetting | TargetSetting[]): string {
  const list = Array.isArray(value) ? value : [value];
  return list
    .map((t) => {
      try {
        return formatTarget(typeof t === 'string' ? parseTarget(t) : parseTarget(formatTarget(t)));
      } catch (err) {
        return fail(setting, (err as Error).message, err);
      }
    })
    .join(',');
}

const ENV_TO_SETTING = Object.fromEntries(Object.entries(BUTTON_ENV).map(([k, v]) => [v, k])) as Record<
  string,
  ButtonSettingName
>;

/**
 * The function's environment for these settings, every value spelled out (defaults included) so
 * the deployed configuration is readable in the console. Validates everything it can: throws
 * `ButtonConfigError` naming the settings field (e.g. `defaultTargets`, `clickActions`), so a bad
 * CDK context fails `cdk synth` rather than the first click. `snsTopicArn` may be a CDK token and
 * is passed through unchecked.
 */
export function buttonFunctionEnvironment(settings: ButtonSettings): Record<string, string> {
  const E = BUTTON_ENV;
  const env: Record<string, string> = {};
  if (settings.defaultTargets !== undefined) {
    env[E.defaultTargets] = targetsText('defaultTargets', settings.defaultTargets);
  }
  if (settings.serialTargets !== undefined && Object.keys(settings.serialTargets).length > 0) {
    const map: Record<string, string> = {};
    for (const [serial, value] of Object.entries(settings.serialTargets)) {
      map[serial] = targetsText(`serialTargets.${serial}`, value);
    }
    env[E.serialTargets] = JSON.stringify(map);
  }
  const actions = { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle', ...settings.clickActions } as Record<string, unknown>;
  for (const [type, action] of Object.entries(actions)) {
    if (!isClickType(type)) fail('clickActions', `unknown click type "${type}" (expected ${CLICK_TYPES.join(', ')})`);
    if (!isClickAction(action)) fail(`clickActions.${type}`, `unknown action "${String(action)}" (expected toggle, on, off, none)`);
  }
  env[E.clickActions] = CLICK_TYPES.map((t) => `${t}=${actions[t] as string}`).join(',');
  const numbers = ['maxClickAgeMs', 'lowBatteryMv', 'lowBatteryPercent', 'connectTimeoutMs', 'requestTimeoutMs', 'dedupeCapacity'] as const;
  for (const key of numbers) {
    const value = settings[key] ?? BUTTON_DEFAULTS[key];
    if (!Number.isInteger(value)) fail(key, `${String(value)} is not a whole number`);
    env[E[key]] = String(value);
  }
  env[E.logLevel] = settings.logLevel ?? BUTTON_DEFAULTS.logLevel;

  // Validate the whole (limits, "no target at all") exactly as the function will at cold start,
  // reporting the settings field rather than the variable.
  try {
    parseButtonConfig(env);
  } catch (err) {
    if (err instanceof ButtonConfigError) {
      const problem = err.message.slice(err.variable.length + 2);
      fail(ENV_TO_SETTING[err.variable] ?? err.variable, problem, err);
    }
    throw err;
  }
  if (settings.snsTopicArn !== undefined && settings.snsTopicArn !== '') env[E.snsTopicArn] = settings.snsTopicArn;
  return env;
}

/** The targets a serial's clicks go to: its own entry, else the defaults (possibly none). */
export function targetsFor(config: ButtonConfig, serial: string): PlugTarget[] {
  return config.serialTargets[serial] ?? config.defaultTargets;
}

/**
 * Worst-case milliseconds to act on one click, for sizing the function's timeout: per outlet a
 * status and a set, each at worst a connect plus a request, and a third such round as headroom
 * (a driver that verifies after setting, a slow reconnect); devices in parallel, outlets of one
 * device one after another; plus 3 s for SNS. With the default 2 s + 3 s, 18 s for one plug.
 */
export function worstCaseClickMs(config: ButtonConfig): number {
  const perOp = config.connectTimeoutMs + config.requestTimeoutMs;
  const lists = [config.defaultTargets, ...Object.values(config.serialTargets)];
  let worst = 0;
  for (const list of lists) {
    const perDevice = new Map<string, number>();
    for (const t of list) perDevice.set(`${t.host}:${t.port}`, (perDevice.get(`${t.host}:${t.port}`) ?? 0) + 1);
    for (const outlets of perDevice.values()) worst = Math.max(worst, 3 * outlets * perOp);
  }
  return worst + 3_000;
}
