/**
 * The button Lambda's configuration: built from settings by `buttonFunctionEnvironment` (used by
 * the CDK stack and by the sandbox, so both configure the function the same way) and read back
 * by `parseButtonConfig` once at cold start. Both walk the one table in settings.ts. No CDK or
 * AWS SDK imports: this file is bundled into the Lambda.
 */
import type { LogLevel } from '../logger';
import { attempt, coerceValue, envNamesOf, isUnset, readText, settingsOf } from '../settings/schema';
import type { ClickAction, ClickType } from './click';
import { ConfigError } from '../errors';
import { BUTTON_SETTINGS, type ButtonSettingName, type ClickActions, type TargetSetting } from './settings';
import type { PlugTarget, TargetRef } from './targets';
import type { PlugMode } from './settings';
import { resolveTarget, type PlugConfig } from '../plug-relay/config';

export { BUTTON_SETTINGS, type ButtonSettingName, type TargetSetting } from './settings';

/** The environment variables the function reads, by settings field. */
export const BUTTON_ENV = envNamesOf(BUTTON_SETTINGS);

/** What the stack (from CDK context) or the sandbox (from its options) knows. */
export interface ButtonSettings {
  /** Plug(s) for any button without its own entry in `serialTargets`. */
  defaultTargets?: TargetSetting | TargetSetting[];
  /** Per button serial: its plug(s). */
  serialTargets?: Record<string, TargetSetting | TargetSetting[]>;
  /** Per click type; a missing type toggles. */
  clickActions?: Partial<Record<ClickType, ClickAction>>;
  maxClickAgeSeconds?: number;
  lowBatteryMillivolts?: number;
  lowBatteryPercent?: number;
  /** May be a CDK token (`topic.topicArn`): it is passed through unchecked at synth. */
  snsTopicArn?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  dedupeCapacity?: number;
  plugMode?: PlugMode;
  plugs?: string | PlugConfig[];
  confirmTimeoutMs?: number;
  iotDataEndpoint?: string;
  /** Direct mode: the Secrets Manager secret (name or ARN) with the TP-Link account credentials. */
  plugCredentialsSecret?: string;
  logLevel?: LogLevel;
}

/** The validated configuration the handler runs with. */
export interface ButtonConfig {
  defaultTargets: PlugTarget[];
  serialTargets: Record<string, PlugTarget[]>;
  clickActions: ClickActions;
  /** A click received longer ago than this is not acted on. */
  maxClickAgeSeconds: number;
  /** Warn when the classic button reports less than this (0: never). */
  lowBatteryMillivolts: number;
  /** Warn when an IoT 1-Click button reports less remaining life than this (0: never). */
  lowBatteryPercent: number;
  snsTopicArn?: string;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  /** How many request ids a warm container remembers. */
  dedupeCapacity: number;
  plugMode: PlugMode;
  /** The configured plugs; targets name them by id (relay mode: switched through their shadows). */
  plugs: PlugConfig[];
  confirmTimeoutMs: number;
  /** Relay mode: '' for the SDK's default endpoint. */
  iotDataEndpoint: string;
  /** Direct mode: '' for none (KLAP/AES plugs get the well-known default credentials). */
  plugCredentialsSecret: string;
  logLevel: LogLevel;
}

/** Every setting's value, defaults applied (only the topic may be absent). */
type Values = { -readonly [K in ButtonSettingName]: ReturnType<(typeof BUTTON_SETTINGS)[K]['parse']> } & { snsTopicArn?: string };

/** Checks across settings and matches the targets to the plugs, naming a setting the way the caller's source names it. */
function checkWhole(values: Values, name: (setting: ButtonSettingName) => string): ButtonConfig {
  const v = values;
  if (v.defaultTargets.length === 0 && Object.keys(v.serialTargets).length === 0) {
    throw new ConfigError('BUTTON_CONFIG_INVALID', name('defaultTargets'), `is not set and ${name('serialTargets')} names no button: the function has no plug to switch`);
  }
  if (v.plugMode === 'relay' && v.plugs.length === 0) {
    throw new ConfigError(
      'BUTTON_CONFIG_INVALID',
      name('plugs'),
      `is empty, and ${name('plugMode')} is relay (the default): configure every plug as id@hub=host[:port][#outlet], or set ${name('plugMode')} to direct to switch addresses over TCP`,
    );
  }
  if (v.plugMode === 'relay' && v.plugCredentialsSecret !== '') {
    throw new ConfigError('BUTTON_CONFIG_INVALID', name('plugCredentialsSecret'), 'is for direct mode: in relay mode the plug credentials stay on the LAN with the hub agent');
  }
  const resolve = (setting: ButtonSettingName, refs: TargetRef[], serial?: string): PlugTarget[] =>
    refs.map((ref) => {
      try {
        return resolveTarget(ref, v.plugs, v.plugMode);
      } catch (err) {
        throw new ConfigError('BUTTON_CONFIG_INVALID', name(setting), `${serial === undefined ? '' : `serial ${serial}: `}${(err as Error).message}`, err);
      }
    });
  const { snsTopicArn, defaultTargets, serialTargets, ...rest } = v;
  const config: ButtonConfig = {
    ...rest,
    defaultTargets: resolve('defaultTargets', defaultTargets),
    serialTargets: Object.fromEntries(Object.entries(serialTargets).map(([serial, refs]) => [serial, resolve('serialTargets', refs, serial)])),
  };
  return snsTopicArn === undefined ? config : { ...config, snsTopicArn };
}

/**
 * Reads and validates the configuration from the environment. Throws `ConfigError`
 * naming the variable at fault; meant to run once at cold start so a bad deployment fails at init.
 */
export function parseButtonConfig(env: Record<string, string | undefined>): ButtonConfig {
  const values = {} as Record<string, unknown>;
  for (const [name, s] of settingsOf(BUTTON_SETTINGS)) {
    const variable = s.env!;
    values[name] = readText(s, env[variable], (problem, cause) => {
      throw new ConfigError('BUTTON_CONFIG_INVALID', variable, problem, cause);
    });
  }
  return checkWhole(values as Values, (name) => BUTTON_ENV[name]);
}

/**
 * The function's environment for these settings, every value spelled out (defaults included) so
 * the deployed configuration is readable in the console. Validates everything as the function
 * will at cold start, throwing `ConfigError` naming the settings field (e.g.
 * `defaultTargets`), so a bad configuration fails `cdk synth` rather than the first click.
 * `snsTopicArn` may be a CDK token and is passed through unchecked.
 */
export function buttonFunctionEnvironment(settings: ButtonSettings): Record<string, string> {
  const env: Record<string, string> = {};
  const values = {} as Record<string, unknown>;
  for (const [name, s] of settingsOf(BUTTON_SETTINGS)) {
    if (name === 'snsTopicArn') continue;
    const given = settings[name as ButtonSettingName];
    const value = isUnset(given)
      ? s.default
      : attempt(
          () => coerceValue(s, given),
          (problem, cause) => {
            throw new ConfigError('BUTTON_CONFIG_INVALID', name, problem, cause);
          },
        );
    values[name] = value;
    // An empty value (no default targets) is left out, as an unset variable reads the same.
    const text = value === undefined ? '' : s.format(value);
    if (text !== '') env[s.env!] = text;
  }
  checkWhole(values as Values, (name) => name);
  if (settings.snsTopicArn !== undefined && settings.snsTopicArn !== '') env[BUTTON_SETTINGS.snsTopicArn.env] = settings.snsTopicArn;
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
 * device one after another; plus a Secrets Manager read when a secret is configured and 3 s for SNS. With the default 2 s + 3 s, 18 s for one plug.
 */
export function worstCaseClickMs(config: ButtonConfig): number {
  const perOp = config.connectTimeoutMs + config.requestTimeoutMs;
  const lists = [config.defaultTargets, ...Object.values(config.serialTargets)];
  let worst = 0;
  for (const list of lists) {
    const perDevice = new Map<string, number>();
    for (const t of list) perDevice.set(`${t.host}:${t.port}`, (perDevice.get(`${t.host}:${t.port}`) ?? 0) + 1);
    // Relay mode: per outlet also the wait for the hub's answer (data-plane calls take well under perOp).
    const confirm = config.plugMode === 'relay' ? config.confirmTimeoutMs : 0;
    for (const outlets of perDevice.values()) worst = Math.max(worst, outlets * (3 * perOp + confirm));
  }
  // Direct mode with a secret: one GetSecretValue (2 attempts of at most 2 s connect + 3 s request).
  const secret = config.plugMode === 'direct' && config.plugCredentialsSecret !== '' ? SECRET_FETCH_MS : 0;
  return worst + secret + 3_000;
}

/** The most a credentials fetch from Secrets Manager may take (secret-credentials.ts's client settings). */
export const SECRET_FETCH_MS = 10_000;
