/** The fan-out worker's settings, declared once like the functions', and its environment built and parsed from them. Pure. */
import { BUTTON_SETTINGS } from '../button/settings';
import { ConfigError } from '../errors';
import { OBJECT_SETTINGS } from '../s3/settings';
import { integer, logLevelSetting, text } from '../settings/codecs';
import { envName, readEnvironment, setting, type Setting, type Values } from '../settings/schema';

/** AWS's UpdateThingShadow quota per account: 4,000/s in the large regions, 400/s in the others. */
export const SHADOW_QUOTA = { large: 4000, small: 400 } as const;

export const FANOUT_SETTINGS = {
  writesPerSecond: setting(integer(1, SHADOW_QUOTA.large), {
    unit: 'writes/s',
    // Each write makes its device report back about twice (downloading, installed): 100 + 2 × 100
    // stays under the 400/s of the smaller regions.
    default: 100,
    description:
      'Shadow writes per second of the fan-out worker, for the whole fleet (shared by its instances); the default leaves room under the smaller regions\' 400/s for the devices\' own reports',
  }),
  maxReceiveCount: setting(integer(1, 1000), {
    default: 5,
    description: "The queue's deliveries of a batch before it moves to the dead-letter queue (the stack sets it from the queue)",
  }),
  progressBucket: setting(text(), {
    defaultText: 'required',
    description: 'Where the worker records finished batches to know when an upload is complete',
  }),
  snsTopicArn: BUTTON_SETTINGS.snsTopicArn,
  shadowProperty: OBJECT_SETTINGS.shadowProperty,
  shadowName: OBJECT_SETTINGS.shadowName,
  iotDataEndpoint: OBJECT_SETTINGS.iotDataEndpoint,
  logLevel: logLevelSetting,
};

/** Worker instances at once (the SQS event source's maximum concurrency, its smallest allowed value). */
export const WORKER_INSTANCES = 2;

export const FLEET_DEFAULTS = { ratePerSecond: FANOUT_SETTINGS.writesPerSecond.default } as const;

export type FanOutConfig = Values<typeof FANOUT_SETTINGS> & { progressBucket: string };

/** Environment → the worker's configuration; ConfigError naming the variable. */
export function parseFanOutConfig(env: Record<string, string | undefined>): FanOutConfig {
  const values = readEnvironment(FANOUT_SETTINGS, env, (variable, problem, cause) => {
    throw new ConfigError('FANOUT_CONFIG_INVALID', variable, problem, cause);
  });
  if (values.progressBucket === undefined) throw new ConfigError('FANOUT_CONFIG_INVALID', envName('progressBucket'), 'is not set');
  return values as FanOutConfig;
}

/** The worker's own settings → environment (the stack adds the bucket, topic and queue names). */
export function fanOutEnvironment(settings: { writesPerSecond?: number; shadowProperty?: string; shadowName?: string; iotDataEndpoint?: string }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['writesPerSecond', 'shadowProperty', 'shadowName', 'iotDataEndpoint'] as const) {
    const value = settings[name] ?? (FANOUT_SETTINGS[name] as Setting<unknown>).default;
    if (value !== undefined) env[envName(name)] = String(value);
  }
  return env;
}
