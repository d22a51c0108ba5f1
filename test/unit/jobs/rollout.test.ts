/**
 * The roll-out model against IoT Jobs' documented semantics: a constant `maximumPerMinute`, an
 * exponential rate that starts at `baseRatePerMinute` and grows by `incrementFactor` when its
 * criterion is met (capped by `maximumPerMinute`), and abort criteria that fire once enough
 * things were notified and the failure share reaches the threshold.
 */
import { describe, expect, it } from 'vitest';
import { abortDecision, MINUTE_MS, nextMinuteAt, noteSucceeded, release, startRollout, timesOutAt, type RolloutState } from '../../../core/jobs/rollout';
import { DEFAULT_ROLLOUT, parseRolloutJson, parseRolloutSettings, type JobExecutionsRolloutConfig } from '../../../core/jobs/rollout-config';

const T0 = 1_700_000_000_000;

/** Wave sizes when every notified thing succeeds before the next minute begins. */
function waves(config: JobExecutionsRolloutConfig, targets: number, succeed = true): number[] {
  let state: RolloutState = startRollout(config, T0);
  let remaining = targets;
  const out: number[] = [];
  for (let minute = 0; remaining > 0 && minute < 1000; minute++) {
    const r = release(config, state, T0 + minute * MINUTE_MS, remaining);
    state = r.state;
    remaining -= r.count;
    out.push(r.count);
    if (succeed) for (let i = 0; i < r.count; i++) state = noteSucceeded(config, state);
  }
  return out;
}

describe('the roll-out rate', () => {
  it('notifies maximumPerMinute things a minute with a constant rate, and 1,000 without one', () => {
    expect(waves({ maximumPerMinute: 7 }, 20)).toEqual([7, 7, 6]);
    expect(waves({}, 2500)).toEqual([1000, 1000, 500]);
  });

  it('starts at baseRatePerMinute and multiplies by incrementFactor after each numberOfSucceededThings', () => {
    const config = { maximumPerMinute: 1000, exponentialRate: { baseRatePerMinute: 2, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 2 } } };
    // 2 succeed → 4; 4 succeed → two increases → 16; then capped by what is left.
    expect(waves(config, 40)).toEqual([2, 4, 16, 18]);
  });

  it('never grows on success criteria while nothing succeeds, and never above maximumPerMinute', () => {
    const config = { maximumPerMinute: 6, exponentialRate: { baseRatePerMinute: 3, incrementFactor: 5, rateIncreaseCriteria: { numberOfSucceededThings: 1 } } };
    expect(waves(config, 9, false)).toEqual([3, 3, 3]);
    expect(waves(config, 15)).toEqual([3, 6, 6]);
  });

  it('grows on notifications from the next minute on, at least by one when the factor rounds down', () => {
    const config = { maximumPerMinute: 100, exponentialRate: { baseRatePerMinute: 1, incrementFactor: 1.1, rateIncreaseCriteria: { numberOfNotifiedThings: 1 } } };
    // 1 notified → 2; 2 notified → two increases (2 → 3 → 4).
    expect(waves(config, 10, false)).toEqual([1, 2, 4, 3]);
  });

  it('releases nothing more within the same minute, and the rest when the next begins', () => {
    const config = { maximumPerMinute: 5 };
    let s = startRollout(config, T0);
    let r = release(config, s, T0 + 1000, 12);
    expect(r.count).toBe(5);
    s = r.state;
    r = release(config, s, T0 + MINUTE_MS - 1, 7);
    expect(r.count).toBe(0);
    expect(nextMinuteAt(r.state)).toBe(T0 + MINUTE_MS);
    r = release(config, r.state, T0 + MINUTE_MS, 7);
    expect(r.count).toBe(5);
  });
});

describe('the abort rule', () => {
  const criteria = DEFAULT_ROLLOUT.abortConfig.criteriaList;
  const counts = (notified: number, failed: number, extra: Partial<{ rejected: number; timedOut: number }> = {}) => ({ notified, succeeded: 0, failed, rejected: 0, timedOut: 0, ...extra });

  it('waits for minNumberOfExecutedThings notified things', () => {
    expect(abortDecision(criteria, counts(9, 5))).toBeUndefined();
    expect(abortDecision(criteria, counts(10, 1))).toMatchObject({ failures: 1, notified: 10, percentage: 10 });
  });

  it('fires at the threshold percentage, not below it', () => {
    expect(abortDecision(criteria, counts(11, 1))).toBeUndefined();
    expect(abortDecision(criteria, counts(20, 2))?.percentage).toBe(10);
  });

  it('counts only the failure type named (ALL counts failed, rejected and timed out)', () => {
    const failedOnly = [{ ...criteria[0]!, failureType: 'FAILED' as const }];
    expect(abortDecision(failedOnly, counts(10, 0, { rejected: 3, timedOut: 3 }))).toBeUndefined();
    expect(abortDecision(criteria, counts(10, 0, { rejected: 1 }))?.failures).toBe(1);
    expect(abortDecision([], counts(10, 10))).toBeUndefined();
  });
});

describe('the settings', () => {
  it('uses the documented defaults for sections not given, and a given section whole', () => {
    expect(parseRolloutSettings({})).toEqual(DEFAULT_ROLLOUT);
    const s = parseRolloutJson('{"jobExecutionsRolloutConfig":{"maximumPerMinute":50},"abortConfig":{"criteriaList":[]}}');
    expect(s.jobExecutionsRolloutConfig).toEqual({ maximumPerMinute: 50 });
    expect(s.abortConfig.criteriaList).toEqual([]);
    expect(s.timeoutConfig).toEqual(DEFAULT_ROLLOUT.timeoutConfig);
  });

  it.each([
    ['{"jobExecutionsRolloutConfig":{"maximumPerMinute":1001}}', 'jobExecutionsRolloutConfig.maximumPerMinute'],
    ['{"jobExecutionsRolloutConfig":{"exponentialRate":{"baseRatePerMinute":5,"incrementFactor":2,"rateIncreaseCriteria":{"numberOfSucceededThings":5}}}}', 'maximumPerMinute: is required'],
    ['{"jobExecutionsRolloutConfig":{"maximumPerMinute":10,"exponentialRate":{"baseRatePerMinute":5,"incrementFactor":1.55,"rateIncreaseCriteria":{"numberOfSucceededThings":5}}}}', 'incrementFactor'],
    ['{"jobExecutionsRolloutConfig":{"maximumPerMinute":10,"exponentialRate":{"baseRatePerMinute":5,"incrementFactor":2,"rateIncreaseCriteria":{}}}}', 'exactly one'],
    ['{"abortConfig":{"criteriaList":[{"failureType":"BROKEN","action":"CANCEL","thresholdPercentage":10,"minNumberOfExecutedThings":1}]}}', 'criteriaList[0].failureType'],
    ['{"abortConfig":{"criteriaList":[{"failureType":"ALL","action":"CANCEL","thresholdPercentage":10.001,"minNumberOfExecutedThings":1}]}}', 'thresholdPercentage'],
    ['{"timeoutConfig":{"inProgressTimeoutInMinutes":0}}', 'inProgressTimeoutInMinutes'],
    ['{"rolloutConfig":{}}', 'unknown key(s) rolloutConfig'],
    ['not json', 'not JSON'],
  ])('refuses %s naming %s', (text, what) => {
    expect(() => parseRolloutJson(text, '--rollout-config')).toThrow(expect.objectContaining({ code: 'ROLLOUT_CONFIG_INVALID', message: expect.stringContaining(what) }));
  });

  it('times an execution out inProgressTimeoutInMinutes after it started, or never', () => {
    expect(timesOutAt({ inProgressTimeoutInMinutes: 2 }, T0)).toBe(T0 + 2 * MINUTE_MS);
    expect(timesOutAt({}, T0)).toBeUndefined();
  });
});
