/**
 * The object-to-shadow Lambda's configuration: its environment built from settings (the stack, the
 * sandbox) and read back once at cold start, both through the one table in settings.ts.
 */
import { buildEnvironment, envNamesOf, readEnvironment, type Inputs, type Values } from '../settings/schema';
import { ConfigError } from '../errors';
import { LIMITS, OBJECT_SETTINGS, type ObjectSettingName } from './settings';

export { LIMITS, OBJECT_SETTINGS } from './settings';

export const ENV = envNamesOf(OBJECT_SETTINGS);

/** What the stack and the sandbox decide. Only `targetThings` has no default. */
export type ObjectSettings = Inputs<typeof OBJECT_SETTINGS> & { targetThings: readonly string[] | string };

/** The validated configuration the handler runs with. */
export type ObjectConfig = Values<typeof OBJECT_SETTINGS> & { targetThings: string[] };

const fail = (variable: string, problem: string, cause?: unknown): never => {
  throw new ConfigError('OBJECT_CONFIG_INVALID', variable, problem, cause);
};

/** Checks across settings, naming a setting the way the caller's source names it. */
function checkWhole(values: Record<string, unknown>, name: (setting: ObjectSettingName) => string): ObjectConfig {
  const config = values as ObjectConfig;
  const readAhead = config.partSizeBytes * config.readConcurrency;
  if (readAhead > LIMITS.maxReadAhead) {
    fail(name('readConcurrency'), `${name('partSizeBytes')} × ${name('readConcurrency')} = ${readAhead} bytes exceeds the read-ahead limit of ${LIMITS.maxReadAhead}`);
  }
  return config;
}

/** Settings → the function's environment (the same map for the CDK stack and the sandbox); validated, naming the settings field. */
export function objectFunctionEnvironment(settings: ObjectSettings): Record<string, string> {
  const { env, values } = buildEnvironment(OBJECT_SETTINGS, settings, fail, (name) => name === 'targetThings');
  checkWhole(values, (name) => name);
  return env;
}

/** Environment → validated configuration; throws `ConfigError` naming the variable. */
export function parseObjectConfig(env: Record<string, string | undefined>): ObjectConfig {
  // The one required variable: present, though it may be empty (per-thing keys only).
  if (env[ENV.targetThings] === undefined) fail(ENV.targetThings, 'is not set (comma-separated thing names; may be empty)');
  const values = readEnvironment(OBJECT_SETTINGS, env, fail);
  values.targetThings ??= [];
  return checkWhole(values, (name) => ENV[name]);
}
