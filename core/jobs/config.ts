/** Roll-out mode's two functions' configuration (upload → CreateJob, job ended → SNS): their environment built for the stack and read at cold start. Pure. */
import { ShadowplugError } from '../errors';
import { parseRolloutJson, type RolloutSettings } from './rollout-config';

export const ROLLOUT_ENV = {
  targets: 'ROLLOUT_TARGETS',
  keyPrefix: 'ROLLOUT_KEY_PREFIX',
  settings: 'ROLLOUT_SETTINGS',
  topicArn: 'ROLLOUT_TOPIC_ARN',
} as const;

export interface RolloutConfig {
  /** Thing and thing-group ARNs the jobs target: the fleet (`thingNames`, `thingGroups`). */
  targets: string[];
  /** Uploads under this prefix become jobs ('' = every key). */
  keyPrefix: string;
  settings: RolloutSettings;
  /** Where the end of a roll-out is published. */
  topicArn?: string;
}

const TARGET_ARN = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:(thing|thinggroup)\/[a-zA-Z0-9:_-]{1,128}$/;

function invalid(name: string, message: string): ShadowplugError {
  return new ShadowplugError(`${name}: ${message}`, { code: 'ROLLOUT_CONFIG_INVALID', retryable: false });
}

export function rolloutFunctionEnvironment(config: RolloutConfig): Record<string, string> {
  return {
    [ROLLOUT_ENV.targets]: config.targets.join(','),
    [ROLLOUT_ENV.keyPrefix]: config.keyPrefix,
    [ROLLOUT_ENV.settings]: JSON.stringify(config.settings),
    ...(config.topicArn !== undefined ? { [ROLLOUT_ENV.topicArn]: config.topicArn } : {}),
  };
}

/** `tokens`: the stack passes CloudFormation tokens for ARNs it creates, checked only at run time. */
export function parseRolloutConfig(env: Record<string, string | undefined>, options: { tokens?: boolean } = {}): RolloutConfig {
  const targets = (env[ROLLOUT_ENV.targets] ?? '').split(',').filter((t) => t !== '');
  if (targets.length === 0) throw invalid(ROLLOUT_ENV.targets, 'at least one thing or thing-group ARN is required');
  for (const t of targets) if (!options.tokens && !TARGET_ARN.test(t)) throw invalid(ROLLOUT_ENV.targets, `${JSON.stringify(t)} is not a thing or thing-group ARN`);
  const keyPrefix = env[ROLLOUT_ENV.keyPrefix] ?? '';
  const settings = parseRolloutJson(env[ROLLOUT_ENV.settings] ?? '{}', ROLLOUT_ENV.settings);
  const topicArn = env[ROLLOUT_ENV.topicArn];
  return { targets, keyPrefix, settings, ...(topicArn ? { topicArn } : {}) };
}
