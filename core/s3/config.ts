/**
 * Configuration of the object-to-shadow Lambda. One builder (`objectFunctionEnvironment`) turns
 * settings into environment variables for both the CDK stack and the sandbox, and one parser
 * (`parseObjectConfig`) validates them once at cold start, naming the variable that is wrong.
 * Both walk the one table in settings.ts. No CDK and no AWS SDK imports: both sides use this file.
 */
import type { LogLevel } from '../logger';
import { attempt, coerceValue, envNamesOf, isUnset, readText, settingsOf } from '../settings/schema';
import { ConfigError } from '../errors';
import { LIMITS, OBJECT_SETTINGS, type ObjectSettingName } from './settings';

export { LIMITS, OBJECT_SETTINGS } from './settings';

/** The environment variables the function reads, by settings field. */
export const ENV = envNamesOf(OBJECT_SETTINGS);

export const DEFAULTS = {
  thingPrefix: OBJECT_SETTINGS.thingPrefix.default,
  property: OBJECT_SETTINGS.property.default,
  partSize: OBJECT_SETTINGS.partSizeBytes.default,
  concurrency: OBJECT_SETTINGS.concurrency.default,
  parallelBelowMiBPerS: OBJECT_SETTINGS.parallelBelowMiBPerS.default,
  conflictRetries: OBJECT_SETTINGS.conflictRetries.default,
  logLevel: OBJECT_SETTINGS.logLevel.default,
} as const;

/** What the stack and the sandbox decide. Only `targetThings` has no default. */
export interface ObjectSettings {
  /** Things that get every object not under the per-thing prefix (may be empty). */
  targetThings: readonly string[];
  /** Keys under `<prefix><thingName>/` go to that thing only. Default `things/`. */
  thingPrefix?: string;
  /** The desired-state property written. Default `s3`. */
  property?: string;
  /** A named shadow instead of the classic one. */
  shadowName?: string;
  /** Size of one ranged GET. Default 8 MiB. */
  partSizeBytes?: number;
  /** Ranged GETs in flight at once. Default 8. */
  concurrency?: number;
  /**
   * The object is first read as one stream; when it delivers less than this many MiB/s, the rest is
   * read as parallel ranged GETs. Default 200. `0`: always one stream; `Infinity`: ranged from the start.
   */
  parallelBelowMiBPerS?: number;
  /** Read-compare-write attempts after a 409 conflict. Default 5. */
  conflictRetries?: number;
  /** Thing groups whose members are targets too. Default none. */
  thingGroups?: readonly string[];
  /** More targets than this go through the fan-out queue (when there is one). Default 50. */
  fanOutAbove?: number;
  fanOutQueueUrl?: string;
  /** The account's IoT data endpoint (`https://<prefix>-ats.iot.<region>.amazonaws.com`); default: the SDK's. */
  iotDataEndpoint?: string;
  logLevel?: LogLevel;
}

/** The validated configuration the handler runs with. */
export interface ObjectConfig {
  targetThings: string[];
  thingPrefix: string;
  property: string;
  shadowName?: string;
  partSizeBytes: number;
  concurrency: number;
  /** Always set by `parseObjectConfig`; optional only so configs built by hand keep compiling. */
  parallelBelowMiBPerS?: number;
  conflictRetries: number;
  /** Always set by `parseObjectConfig`; optional only so configs built by hand keep compiling. */
  thingGroups?: string[];
  fanOutAbove?: number;
  fanOutQueueUrl?: string;
  iotDataEndpoint?: string;
  logLevel: LogLevel;
}

/** Checks across settings, naming a setting the way the caller's source names it. */
function checkWhole(config: ObjectConfig, name: (setting: ObjectSettingName) => string): ObjectConfig {
  const readAhead = config.partSizeBytes * config.concurrency;
  if (readAhead > LIMITS.maxReadAhead) {
    throw new ConfigError('OBJECT_CONFIG_INVALID', name('concurrency'), `${name('partSizeBytes')} × ${name('concurrency')} = ${readAhead} bytes exceeds the read-ahead limit of ${LIMITS.maxReadAhead}`);
  }
  return config;
}

/** Settings → the function's environment (the same map for the CDK stack and the sandbox); validated, naming the settings field. */
export function objectFunctionEnvironment(settings: ObjectSettings): Record<string, string> {
  const env: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [name, s] of settingsOf(OBJECT_SETTINGS)) {
    const given = settings[name as ObjectSettingName];
    const fail = (problem: string, cause: unknown): never => {
      throw new ConfigError('OBJECT_CONFIG_INVALID', name, problem, cause);
    };
    const value = given === undefined || (isUnset(given) && name !== 'targetThings') ? s.default : attempt(() => coerceValue(s, given), fail);
    values[name] = value;
    if (value !== undefined) env[s.env!] = s.format(value);
  }
  checkWhole(values as unknown as ObjectConfig, (name) => name);
  return env;
}

/** Environment → validated configuration; throws `ConfigError` naming the variable. */
export function parseObjectConfig(env: Record<string, string | undefined>): ObjectConfig {
  const values: Record<string, unknown> = {};
  for (const [name, s] of settingsOf(OBJECT_SETTINGS)) {
    const variable = s.env!;
    const fail = (problem: string, cause: unknown): never => {
      throw new ConfigError('OBJECT_CONFIG_INVALID', variable, problem, cause);
    };
    const text = env[variable];
    // The one required variable: present, though it may be empty (per-thing keys only).
    if (name === 'targetThings') {
      if (text === undefined) fail('is not set (comma-separated thing names; may be empty)', undefined);
      values[name] = attempt(() => s.parse(text!), fail);
    } else {
      values[name] = readText(s, text, fail);
    }
  }
  return checkWhole(values as unknown as ObjectConfig, (name) => ENV[name]);
}
