/**
 * Configuration of the object-to-shadow Lambda. One builder (`objectFunctionEnvironment`) turns
 * settings into environment variables for both the CDK stack and the sandbox, and one parser
 * (`parseObjectConfig`) validates them once at cold start, naming the variable that is wrong.
 * No CDK and no AWS SDK imports: both sides use this file.
 */
import { SHADOW_NAME_PATTERN, THING_NAME_PATTERN } from '../shadow/topics';
import { ObjectConfigError } from './errors';

export const ENV = {
  targetThings: 'SHADOWPLUG_TARGET_THINGS',
  thingPrefix: 'SHADOWPLUG_THING_PREFIX',
  property: 'SHADOWPLUG_SHADOW_PROPERTY',
  shadowName: 'SHADOWPLUG_SHADOW_NAME',
  partSize: 'SHADOWPLUG_PART_SIZE_BYTES',
  concurrency: 'SHADOWPLUG_READ_CONCURRENCY',
  parallelBelow: 'SHADOWPLUG_PARALLEL_BELOW_MIB_PER_S',
  conflictRetries: 'SHADOWPLUG_CONFLICT_RETRIES',
  iotDataEndpoint: 'SHADOWPLUG_IOT_DATA_ENDPOINT',
  // The same variable as the button function's (and Powertools'): one name for the log level.
  logLevel: 'LOG_LEVEL',
} as const;

export const DEFAULTS = {
  thingPrefix: 'things/',
  property: 's3',
  partSize: 8 * 1024 * 1024,
  concurrency: 8,
  /** One stream slower than this (MiB/s) switches to parallel ranged GETs. See object-reader.ts. */
  parallelBelowMiBPerS: 200,
  conflictRetries: 5,
  logLevel: 'info',
} as const;

/** Bounds that keep memory constant: at most `concurrency` parts are held at once. */
export const LIMITS = {
  minPartSize: 64 * 1024,
  maxPartSize: 256 * 1024 * 1024,
  maxConcurrency: 64,
  /** partSize × concurrency: what the read-ahead may buffer. */
  maxReadAhead: 512 * 1024 * 1024,
  maxConflictRetries: 50,
  /** Above any real single-connection throughput; `Infinity` (ranged from the start) is allowed too. */
  maxParallelBelowMiBPerS: 1_000_000,
} as const;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type ObjectLogLevel = (typeof LOG_LEVELS)[number];

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
  /** The account's IoT data endpoint (`https://<prefix>-ats.iot.<region>.amazonaws.com`); default: the SDK's. */
  iotDataEndpoint?: string;
  logLevel?: ObjectLogLevel;
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
  iotDataEndpoint?: string;
  logLevel: ObjectLogLevel;
}

/** Settings → the function's environment (the same map for the CDK stack and the sandbox). */
export function objectFunctionEnvironment(settings: ObjectSettings): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.targetThings]: settings.targetThings.join(','),
    [ENV.thingPrefix]: settings.thingPrefix ?? DEFAULTS.thingPrefix,
    [ENV.property]: settings.property ?? DEFAULTS.property,
    [ENV.partSize]: String(settings.partSizeBytes ?? DEFAULTS.partSize),
    [ENV.concurrency]: String(settings.concurrency ?? DEFAULTS.concurrency),
    [ENV.parallelBelow]: String(settings.parallelBelowMiBPerS ?? DEFAULTS.parallelBelowMiBPerS),
    [ENV.conflictRetries]: String(settings.conflictRetries ?? DEFAULTS.conflictRetries),
    [ENV.logLevel]: settings.logLevel ?? DEFAULTS.logLevel,
  };
  if (settings.shadowName !== undefined) env[ENV.shadowName] = settings.shadowName;
  if (settings.iotDataEndpoint !== undefined) env[ENV.iotDataEndpoint] = settings.iotDataEndpoint;
  // Validate at build time too, so a bad setting fails `cdk synth`, not the first upload.
  parseObjectConfig(env);
  return env;
}

function integer(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ObjectConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ObjectConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** Environment → validated configuration; throws `ObjectConfigError` naming the variable. */
export function parseObjectConfig(env: Record<string, string | undefined>): ObjectConfig {
  const rawTargets = env[ENV.targetThings];
  if (rawTargets === undefined) throw new ObjectConfigError(ENV.targetThings, 'is not set (comma-separated thing names; may be empty)');
  const targetThings = rawTargets
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  for (const thing of targetThings) {
    if (!THING_NAME_PATTERN.test(thing)) throw new ObjectConfigError(ENV.targetThings, `invalid thing name ${JSON.stringify(thing)} (allowed: [a-zA-Z0-9:_-]{1,128})`);
  }
  if (new Set(targetThings).size !== targetThings.length) throw new ObjectConfigError(ENV.targetThings, 'lists a thing twice');

  const thingPrefix = env[ENV.thingPrefix] ?? DEFAULTS.thingPrefix;
  if (thingPrefix === '' || !thingPrefix.endsWith('/') || thingPrefix.startsWith('/')) {
    throw new ObjectConfigError(ENV.thingPrefix, `must be a key prefix ending in "/" (e.g. "things/"), got ${JSON.stringify(thingPrefix)}`);
  }

  const property = env[ENV.property] ?? DEFAULTS.property;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(property)) throw new ObjectConfigError(ENV.property, `must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(property)}`);

  const shadowName = env[ENV.shadowName] === '' ? undefined : env[ENV.shadowName];
  if (shadowName !== undefined && !SHADOW_NAME_PATTERN.test(shadowName)) {
    throw new ObjectConfigError(ENV.shadowName, `invalid shadow name ${JSON.stringify(shadowName)} (allowed: [$a-zA-Z0-9:_-]{1,64})`);
  }

  const partSizeBytes = integer(env, ENV.partSize, DEFAULTS.partSize, LIMITS.minPartSize, LIMITS.maxPartSize);
  const concurrency = integer(env, ENV.concurrency, DEFAULTS.concurrency, 1, LIMITS.maxConcurrency);
  if (partSizeBytes * concurrency > LIMITS.maxReadAhead) {
    throw new ObjectConfigError(ENV.concurrency, `${ENV.partSize} × ${ENV.concurrency} = ${partSizeBytes * concurrency} bytes exceeds the read-ahead limit of ${LIMITS.maxReadAhead}`);
  }
  const rawParallelBelow = env[ENV.parallelBelow]?.trim();
  let parallelBelowMiBPerS: number = Infinity;
  if (rawParallelBelow !== 'Infinity') {
    try {
      parallelBelowMiBPerS = integer(env, ENV.parallelBelow, DEFAULTS.parallelBelowMiBPerS, 0, LIMITS.maxParallelBelowMiBPerS);
    } catch (err) {
      if (err instanceof ObjectConfigError) throw new ObjectConfigError(ENV.parallelBelow, `${err.message.replace(/^.*?: /, '')} (MiB/s; 0: always one stream; Infinity: always ranged)`);
      throw err;
    }
  }
  const conflictRetries = integer(env, ENV.conflictRetries, DEFAULTS.conflictRetries, 0, LIMITS.maxConflictRetries);

  const iotDataEndpoint = env[ENV.iotDataEndpoint] === '' ? undefined : env[ENV.iotDataEndpoint];
  if (iotDataEndpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(iotDataEndpoint)) {
    throw new ObjectConfigError(ENV.iotDataEndpoint, `must be an http(s) URL, got ${JSON.stringify(iotDataEndpoint)}`);
  }

  const logLevel = (env[ENV.logLevel] ?? DEFAULTS.logLevel) as ObjectLogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ObjectConfigError(ENV.logLevel, `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(logLevel)}`);

  return { targetThings, thingPrefix, property, shadowName, partSizeBytes, concurrency, parallelBelowMiBPerS, conflictRetries, iotDataEndpoint, logLevel };
}
