/** The object-to-shadow function's settings, declared once, keyed by field name (its variable and the config's type derive from it). Pure. */
import { SHADOW_NAME_PATTERN, THING_NAME_PATTERN } from '../shadow/topics';
import { PLUG_SHADOW_PREFIX } from '../plug-relay/contract';
import { integer, integerOrInfinity, listOf, LOG_LEVEL_TEXT, logLevelSetting, matching, text } from '../settings/codecs';
import { setting } from '../settings/schema';

/** Bounds that keep memory constant: at most `readConcurrency` parts are held at once. */
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

export const thingNameCodec = matching(THING_NAME_PATTERN, 'a thing name (1–128 of a-z A-Z 0-9 : _ -)');
/** Thing group names follow the thing name rule. */
export const thingGroupCodec = matching(THING_NAME_PATTERN, 'a thing group name (1–128 of a-z A-Z 0-9 : _ -)');
/**
 * Why an S3 key (or a key prefix) could not be installed by a device, or undefined: the one rule
 * of the agent's install path (agent/install-path.ts) and of the stack's `keyPrefix`.
 */
export function unsafeKeyReason(key: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) return 'it contains control characters';
  if (key.startsWith('/')) return 'it is an absolute path';
  if (key.includes('\\')) return 'it contains a backslash';
  if (key.split('/').some((s) => s === '..')) return "it contains a '..' segment";
  return undefined;
}

/** The property the agent reports itself in (`reported.agent`): no file may be delivered there. */
export const AGENT_INFO_PROPERTY = 'agent';

/** The file's shadow; `plug-…` names are the plugs' own shadows (and their device-policy wildcard). */
export const shadowNameCodec = text((t) =>
  !SHADOW_NAME_PATTERN.test(t)
    ? `"${t}" is not a shadow name (1–64 of $ a-z A-Z 0-9 : _ -)`
    : t.startsWith(PLUG_SHADOW_PREFIX)
      ? `"${t}" starts with "${PLUG_SHADOW_PREFIX}", which names the plugs' shadows`
      : undefined,
);
export const shadowPropertyCodec = text((t) =>
  !/^[A-Za-z0-9_-]{1,64}$/.test(t)
    ? `"${t}" is not a shadow property (1–64 of A-Z a-z 0-9 _ -)`
    : t === AGENT_INFO_PROPERTY
      ? `"${t}" is where the agent reports itself; choose another`
      : undefined,
);

export const OBJECT_SETTINGS = {
  targetThings: setting(listOf(thingNameCodec, { min: 0, max: 1000, noun: 'thing name' }), {
    defaultText: 'required, may be empty',
    description: 'Things that get every object not under the per-thing prefix',
  }),
  thingPrefix: setting(
    text((t) => (t === '' || !t.endsWith('/') || t.startsWith('/') ? `must be a key prefix ending in "/" (e.g. "things/"), got ${JSON.stringify(t)}` : undefined)),
    { default: 'things/', description: 'Keys under `<prefix><thing>/` go to that thing only' },
  ),
  shadowProperty: setting(shadowPropertyCodec, { default: 's3', description: 'The `state.desired` property written (and the agent reads)' }),
  shadowName: setting(shadowNameCodec, { defaultText: 'the classic shadow', description: 'Write this named shadow instead' }),
  partSizeBytes: setting(integer(LIMITS.minPartSize, LIMITS.maxPartSize), { unit: 'bytes', default: 8 * 1024 * 1024, defaultText: '8388608 (8 MiB)', description: 'Size of one ranged GET' }),
  readConcurrency: setting(integer(1, LIMITS.maxConcurrency), { default: 8, description: 'Ranged GETs at once (part size × concurrency ≤ 512 MiB); `1`: always one stream' }),
  parallelBelowMiBPerS: setting(integerOrInfinity(0, LIMITS.maxParallelBelowMiBPerS), {
    unit: 'MiB/s',
    default: 200,
    description: 'A first stream slower than this hands the rest to ranged GETs; `0`: always one stream; `Infinity`: ranged from byte 0',
  }),
  conflictRetries: setting(integer(0, LIMITS.maxConflictRetries), { default: 5, description: 'Re-reads after a 409 before the record fails' }),
  thingGroups: setting(listOf(thingGroupCodec, { min: 0, max: 10, noun: 'thing group' }), {
    defaultText: 'none',
    description:
      'Thing groups (static or dynamic; nested groups included) whose members also get every object not under the per-thing prefix, listed when the upload is handled (cached 60 s): a device added to a group gets the next upload without a redeploy',
  }),
  fanOutAbove: setting(integer(0, 10_000), {
    default: 50,
    description: 'More target devices than this (and a fan-out queue): their batches go to the queue and its worker instead of being written by this function',
  }),
  fanOutQueueUrl: setting(matching(/^https?:\/\/\S+$/, 'an SQS queue URL'), {
    defaultText: 'none: every target written in process',
    description: 'The fan-out queue (the stack creates it with thingGroups)',
  }),
  iotDataEndpoint: setting(matching(/^https?:\/\/[^\s/]+/, 'an http(s) URL'), {
    defaultText: "the SDK's",
    description: "The account's data endpoint, `https://<prefix>-ats.iot.<region>.amazonaws.com` (the stack looks it up)",
  }),
  logLevel: { ...logLevelSetting, ...LOG_LEVEL_TEXT },
};

export type ObjectSettingName = keyof typeof OBJECT_SETTINGS;
