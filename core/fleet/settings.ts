/**
 * The fan-out worker's settings, declared once like the functions' (environment variable, context
 * key, type, range, default), and its environment built and parsed from them. Pure.
 */
import { BUTTON_SETTINGS } from '../button/settings';
import { ConfigError } from '../errors';
import { OBJECT_SETTINGS } from '../s3/settings';
import { integer, text } from '../settings/codecs';
import { ENV_NAMES } from '../settings/env-names';
import { logLevelSetting } from '../settings/log-level';
import { readText, setting, settingsOf } from '../settings/schema';
import type { LogLevel } from '../logger';

/** AWS's UpdateThingShadow quota per account: 4,000/s in the large regions, 400/s in the others. */
export const SHADOW_QUOTA = { large: 4000, small: 400 } as const;

export const FANOUT_SETTINGS = {
  writesPerSecond: setting(integer(1, SHADOW_QUOTA.large), {
    env: ENV_NAMES.writesPerSecond,
    context: 'fanOutWritesPerSecond',
    type: 'integer',
    unit: 'writes/s',
    range: [1, SHADOW_QUOTA.large],
    // Each write makes its device report back about twice (downloading, installed): 100 + 2 × 100
    // stays under the 400/s of the smaller regions.
    default: 100,
    description:
      'Shadow writes per second of the fan-out worker, for the whole fleet (shared by its instances); the default leaves room under the smaller regions\' 400/s for the devices\' own reports',
  }),
  maxReceiveCount: setting(integer(1, 1000), {
    env: ENV_NAMES.maxReceiveCount,
    type: 'integer',
    range: [1, 1000],
    default: 5,
    description: "The queue's deliveries of a batch before it moves to the dead-letter queue (the stack sets it from the queue)",
  }),
  progressBucket: setting(text(), {
    env: ENV_NAMES.progressBucket,
    type: 'bucket name',
    defaultText: 'required',
    description: 'Where the worker records finished batches to know when an upload is complete',
  }),
  snsTopicArn: BUTTON_SETTINGS.snsTopicArn,
  property: OBJECT_SETTINGS.property,
  shadowName: OBJECT_SETTINGS.shadowName,
  iotDataEndpoint: OBJECT_SETTINGS.iotDataEndpoint,
  logLevel: logLevelSetting,
};

/** Worker instances at once (the SQS event source's maximum concurrency, its smallest allowed value). */
export const WORKER_INSTANCES = 2;

export const FLEET_DEFAULTS = { ratePerSecond: FANOUT_SETTINGS.writesPerSecond.default } as const;

export interface FanOutConfig {
  writesPerSecond: number;
  maxReceiveCount: number;
  progressBucket: string;
  snsTopicArn?: string;
  property: string;
  shadowName?: string;
  iotDataEndpoint?: string;
  logLevel: LogLevel;
}

/** Environment → the worker's configuration; ConfigError naming the variable. */
export function parseFanOutConfig(env: Record<string, string | undefined>): FanOutConfig {
  const values: Record<string, unknown> = {};
  for (const [name, s] of settingsOf(FANOUT_SETTINGS)) {
    const fail = (problem: string, cause: unknown): never => {
      throw new ConfigError('FANOUT_CONFIG_INVALID', s.env!, problem, cause);
    };
    values[name] = readText(s, env[s.env!], fail);
  }
  if (values.progressBucket === undefined) throw new ConfigError('FANOUT_CONFIG_INVALID', ENV_NAMES.progressBucket, 'is not set');
  return values as unknown as FanOutConfig;
}

/** The worker's own settings → environment (the stack adds the bucket, topic and queue names). */
export function fanOutEnvironment(settings: { writesPerSecond?: number; property?: string; shadowName?: string; iotDataEndpoint?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  const rate = settings.writesPerSecond ?? FANOUT_SETTINGS.writesPerSecond.default;
  env[ENV_NAMES.writesPerSecond] = FANOUT_SETTINGS.writesPerSecond.format(rate);
  env[ENV_NAMES.property] = settings.property ?? OBJECT_SETTINGS.property.default;
  if (settings.shadowName !== undefined) env[ENV_NAMES.shadowName] = settings.shadowName;
  if (settings.iotDataEndpoint !== undefined) env[ENV_NAMES.iotDataEndpoint] = settings.iotDataEndpoint;
  return env;
}
