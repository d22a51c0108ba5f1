/**
 * The object-to-shadow function's settings, declared once (environment variable, context key
 * where CDK context sets one directly, type, unit, range, default, description). config.ts builds
 * and parses the environment from this table, lib/ reads context through it, and the table in
 * docs/object-to-shadow.md is generated from it. Pure.
 */
import { SHADOW_NAME_PATTERN, THING_NAME_PATTERN } from '../shadow/topics';
import { integer, integerOrInfinity, listOf, matching, text } from '../settings/codecs';
import { ENV_NAMES } from '../settings/env-names';
import { logLevelSetting } from '../settings/log-level';
import { setting } from '../settings/schema';

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

export const thingNameCodec = matching(THING_NAME_PATTERN, 'a thing name (1–128 of a-z A-Z 0-9 : _ -)');
export const shadowNameCodec = matching(SHADOW_NAME_PATTERN, 'a shadow name (1–64 of $ a-z A-Z 0-9 : _ -)');
export const shadowPropertyCodec = matching(/^[A-Za-z0-9_-]{1,64}$/, 'a shadow property (1–64 of A-Z a-z 0-9 _ -)');

export const OBJECT_SETTINGS = {
  targetThings: setting(listOf(thingNameCodec, { min: 0, max: 1000, noun: 'thing name' }), {
    env: ENV_NAMES.targetThings,
    type: 'thing name list',
    defaultText: 'required, may be empty',
    description: 'Things that get every object not under the per-thing prefix',
  }),
  thingPrefix: setting(
    text((t) => (t === '' || !t.endsWith('/') || t.startsWith('/') ? `must be a key prefix ending in "/" (e.g. "things/"), got ${JSON.stringify(t)}` : undefined)),
    {
      env: ENV_NAMES.thingPrefix,
      type: 'S3 key prefix',
      default: 'things/',
      description: 'Keys under `<prefix><thing>/` go to that thing only',
    },
  ),
  property: setting(shadowPropertyCodec, {
    env: ENV_NAMES.property,
    context: 'shadowProperty',
    type: 'name',
    default: 's3',
    description: 'The `state.desired` property written (and the agent reads)',
  }),
  shadowName: setting(shadowNameCodec, {
    env: ENV_NAMES.shadowName,
    context: 'shadowName',
    type: 'name',
    defaultText: 'the classic shadow',
    description: 'Write this named shadow instead',
  }),
  partSizeBytes: setting(integer(LIMITS.minPartSize, LIMITS.maxPartSize), {
    env: ENV_NAMES.partSize,
    type: 'integer',
    unit: 'bytes',
    range: [LIMITS.minPartSize, LIMITS.maxPartSize],
    default: 8 * 1024 * 1024,
    defaultText: '8388608 (8 MiB)',
    description: 'Size of one ranged GET',
  }),
  concurrency: setting(integer(1, LIMITS.maxConcurrency), {
    env: ENV_NAMES.concurrency,
    type: 'integer',
    range: [1, LIMITS.maxConcurrency],
    default: 8,
    description: 'Ranged GETs at once (part size × concurrency ≤ 512 MiB); `1`: always one stream',
  }),
  /** One stream slower than this (MiB/s) switches to parallel ranged GETs. See object-reader.ts. */
  parallelBelowMiBPerS: setting(integerOrInfinity(0, LIMITS.maxParallelBelowMiBPerS), {
    env: ENV_NAMES.parallelBelow,
    type: 'integer or `Infinity`',
    unit: 'MiB/s',
    range: [0, LIMITS.maxParallelBelowMiBPerS],
    default: 200,
    description: 'A first stream slower than this hands the rest to ranged GETs; `0`: always one stream; `Infinity`: ranged from byte 0',
  }),
  conflictRetries: setting(integer(0, LIMITS.maxConflictRetries), {
    env: ENV_NAMES.conflictRetries,
    type: 'integer',
    range: [0, LIMITS.maxConflictRetries],
    default: 5,
    description: 'Re-reads after a 409 before the record fails',
  }),
  iotDataEndpoint: setting(matching(/^https?:\/\/[^\s/]+/, 'an http(s) URL'), {
    env: ENV_NAMES.iotDataEndpoint,
    type: 'URL',
    defaultText: "the SDK's",
    description: "The account's data endpoint, `https://<prefix>-ats.iot.<region>.amazonaws.com` (the stack looks it up)",
  }),
  logLevel: logLevelSetting,
};

export type ObjectSettingName = keyof typeof OBJECT_SETTINGS;
