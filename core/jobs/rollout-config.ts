/**
 * A roll-out's settings in CreateJob's own shapes, so a value that works in the sandbox works in
 * `aws iot create-job`, checked against the ranges the IoT API documents. Pure.
 */
import { ShadowplugError } from '../errors';
import { isObject } from '../util/guards';

type RateIncreaseCriteria = { numberOfNotifiedThings?: number; numberOfSucceededThings?: number };

export interface JobExecutionsRolloutConfig {
  maximumPerMinute?: number;
  exponentialRate?: { baseRatePerMinute: number; incrementFactor: number; rateIncreaseCriteria: RateIncreaseCriteria };
}

export type FailureType = 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';
const FAILURE_TYPES: readonly FailureType[] = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'];

export interface AbortCriteria {
  failureType: FailureType;
  action: 'CANCEL';
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

export type TimeoutConfig = { inProgressTimeoutInMinutes?: number };

export interface RolloutSettings {
  jobExecutionsRolloutConfig: JobExecutionsRolloutConfig;
  abortConfig: { criteriaList: AbortCriteria[] };
  timeoutConfig: TimeoutConfig;
}

/** IoT's ceiling on notifications per minute, and the rate when none is configured. */
export const MAX_PER_MINUTE = 1000;

/**
 * Defaults an installer can accept: 5 devices in the first minute (5 % of a 100-device fleet),
 * doubling after every 5 successes up to IoT's 1,000 a minute; cancel when 10 % of the notified
 * devices have failed, rejected or timed out, once 10 have been notified; an execution that is
 * not finished an hour after it started times out.
 */
export const DEFAULT_ROLLOUT: RolloutSettings = {
  jobExecutionsRolloutConfig: {
    maximumPerMinute: MAX_PER_MINUTE,
    exponentialRate: { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 5 } },
  },
  abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 10 }] },
  timeoutConfig: { inProgressTimeoutInMinutes: 60 },
};

function invalid(where: string, message: string): ShadowplugError {
  return new ShadowplugError(`${where}: ${message}`, { code: 'ROLLOUT_CONFIG_INVALID', retryable: false });
}

function int(value: unknown, where: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalid(where, `expected an integer ${min}-${max}, got ${JSON.stringify(value)}`);
  return value;
}

/** A number in [min, max] with at most `decimals` digits after the point, as IoT accepts. */
function decimal(value: unknown, where: string, min: number, max: number, decimals: number): number {
  const scaled = typeof value === 'number' ? value * 10 ** decimals : NaN;
  if (typeof value !== 'number' || value < min || value > max || Math.abs(scaled - Math.round(scaled)) > 1e-9) {
    throw invalid(where, `expected a number ${min}-${max} with at most ${decimals} decimal(s), got ${JSON.stringify(value)}`);
  }
  return value;
}

function object(value: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (!isObject(value)) throw invalid(where, `expected an object, got ${JSON.stringify(value)}`);
  const unknown = Object.keys(value).filter((k) => !keys.includes(k));
  if (unknown.length > 0) throw invalid(where, `unknown key(s) ${unknown.join(', ')} (expected ${keys.join(', ')})`);
  return value;
}

function parseRate(value: unknown, where: string): JobExecutionsRolloutConfig {
  const v = object(value, where, ['maximumPerMinute', 'exponentialRate']);
  const out: JobExecutionsRolloutConfig = {};
  if (v.maximumPerMinute !== undefined) out.maximumPerMinute = int(v.maximumPerMinute, `${where}.maximumPerMinute`, 1, MAX_PER_MINUTE);
  if (v.exponentialRate !== undefined) {
    const w = `${where}.exponentialRate`;
    const e = object(v.exponentialRate, w, ['baseRatePerMinute', 'incrementFactor', 'rateIncreaseCriteria']);
    const c = object(e.rateIncreaseCriteria, `${w}.rateIncreaseCriteria`, ['numberOfNotifiedThings', 'numberOfSucceededThings']);
    const criteria: RateIncreaseCriteria = {};
    for (const k of ['numberOfNotifiedThings', 'numberOfSucceededThings'] as const) if (c[k] !== undefined) criteria[k] = int(c[k], `${w}.rateIncreaseCriteria.${k}`, 1, Number.MAX_SAFE_INTEGER);
    if (Object.keys(criteria).length !== 1) throw invalid(`${w}.rateIncreaseCriteria`, 'set exactly one of numberOfNotifiedThings and numberOfSucceededThings');
    out.exponentialRate = {
      baseRatePerMinute: int(e.baseRatePerMinute, `${w}.baseRatePerMinute`, 1, MAX_PER_MINUTE),
      incrementFactor: decimal(e.incrementFactor, `${w}.incrementFactor`, 1.1, 5, 1),
      rateIncreaseCriteria: criteria,
    };
    // IoT requires the ceiling with an exponential rate.
    if (out.maximumPerMinute === undefined) throw invalid(`${where}.maximumPerMinute`, 'is required with exponentialRate');
    if (out.exponentialRate.baseRatePerMinute > out.maximumPerMinute) throw invalid(w, `baseRatePerMinute ${out.exponentialRate.baseRatePerMinute} exceeds maximumPerMinute ${out.maximumPerMinute}`);
  }
  return out;
}

function parseAbort(value: unknown, where: string): RolloutSettings['abortConfig'] {
  const v = object(value, where, ['criteriaList']);
  if (!Array.isArray(v.criteriaList)) throw invalid(`${where}.criteriaList`, 'expected an array');
  const criteriaList = v.criteriaList.map((item, i): AbortCriteria => {
    const w = `${where}.criteriaList[${i}]`;
    const c = object(item, w, ['failureType', 'action', 'thresholdPercentage', 'minNumberOfExecutedThings']);
    if (!FAILURE_TYPES.includes(c.failureType as FailureType)) throw invalid(`${w}.failureType`, `expected one of ${FAILURE_TYPES.join(', ')}, got ${JSON.stringify(c.failureType)}`);
    if (c.action !== 'CANCEL') throw invalid(`${w}.action`, `expected CANCEL, got ${JSON.stringify(c.action)}`);
    return {
      failureType: c.failureType as FailureType,
      action: 'CANCEL',
      thresholdPercentage: decimal(c.thresholdPercentage, `${w}.thresholdPercentage`, 0, 100, 2),
      minNumberOfExecutedThings: int(c.minNumberOfExecutedThings, `${w}.minNumberOfExecutedThings`, 1, Number.MAX_SAFE_INTEGER),
    };
  });
  return { criteriaList };
}

function parseTimeout(value: unknown, where: string): TimeoutConfig {
  const v = object(value, where, ['inProgressTimeoutInMinutes']);
  // IoT: 1 minute to 7 days.
  return v.inProgressTimeoutInMinutes === undefined ? {} : { inProgressTimeoutInMinutes: int(v.inProgressTimeoutInMinutes, `${where}.inProgressTimeoutInMinutes`, 1, 10_080) };
}

/**
 * `{jobExecutionsRolloutConfig?, abortConfig?, timeoutConfig?}`: each section given replaces the
 * default one whole (so `{"abortConfig":{"criteriaList":[]}}` means never abort); `where` names
 * the setting in errors.
 */
export function parseRolloutSettings(value: unknown, where = 'rollout'): RolloutSettings {
  const v = object(value, where, ['jobExecutionsRolloutConfig', 'abortConfig', 'timeoutConfig']);
  return {
    jobExecutionsRolloutConfig: v.jobExecutionsRolloutConfig === undefined ? DEFAULT_ROLLOUT.jobExecutionsRolloutConfig : parseRate(v.jobExecutionsRolloutConfig, `${where}.jobExecutionsRolloutConfig`),
    abortConfig: v.abortConfig === undefined ? DEFAULT_ROLLOUT.abortConfig : parseAbort(v.abortConfig, `${where}.abortConfig`),
    timeoutConfig: v.timeoutConfig === undefined ? DEFAULT_ROLLOUT.timeoutConfig : parseTimeout(v.timeoutConfig, `${where}.timeoutConfig`),
  };
}

/** The settings from JSON text (a flag or context value). */
export function parseRolloutJson(text: string, where = 'rollout'): RolloutSettings {
  return parseRolloutSettings(parseJsonObject(text, where), where);
}

/**
 * The `rollout` context key: where uploads become jobs and with which settings. Which devices get
 * them is not part of it: the fleet is named once, by `thingNames`/`thingGroups`, and a job
 * targets the same devices a shadow-path upload reaches.
 */
export interface RolloutContext {
  /** Uploads under this prefix become jobs (must not overlap the shadow path's `keyPrefix`). */
  keyPrefix: string;
  settings: RolloutSettings;
}

/** `{"keyPrefix":"releases/", ...CreateJob's three sections}`. */
export function parseRolloutContext(value: unknown, where = 'rollout'): RolloutContext {
  const v = typeof value === 'string' ? parseJsonObject(value, where) : value;
  if (isObject(v) && 'thingGroups' in v) {
    throw invalid(`${where}.thingGroups`, 'the fleet is named once, by the thingGroups (and thingNames) context keys, e.g. -c thingGroups=lobby,hall: roll-out jobs target those');
  }
  const { keyPrefix, ...rest } = object(v, where, ['keyPrefix', 'jobExecutionsRolloutConfig', 'abortConfig', 'timeoutConfig']);
  if (typeof keyPrefix !== 'string' || keyPrefix === '' || !keyPrefix.endsWith('/') || keyPrefix.startsWith('/') || /[*?]|\$\{/.test(keyPrefix)) {
    throw invalid(`${where}.keyPrefix`, `expected a key prefix ending in "/" (e.g. "releases/"), got ${JSON.stringify(keyPrefix)}`);
  }
  return { keyPrefix, settings: parseRolloutSettings(rest, where) };
}

function parseJsonObject(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalid(where, `not JSON: ${(err as Error).message}`);
  }
}
