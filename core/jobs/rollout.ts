/**
 * The roll-out model of a job, as pure functions of its settings, its history and the time: how
 * many more executions may be created now, whether an abort rule fires, when an execution times out.
 * Each minute from the start is one wave at the rate fixed when it began. With `exponentialRate` the
 * first rate is `baseRatePerMinute`, and every `numberOfNotifiedThings` notified (or
 * `numberOfSucceededThings` succeeded) multiply the next minutes' rate by `incrementFactor` (rounded
 * down, growing by at least one), never above `maximumPerMinute` (1,000 when absent).
 */
import { MAX_PER_MINUTE, type AbortCriteria, type FailureType, type JobExecutionsRolloutConfig, type TimeoutConfig } from './rollout-config';

export const MINUTE_MS = 60_000;

export interface RolloutState {
  /** Epoch ms the roll-out began; minute `n` is [startedAt + n·60 s, startedAt + (n+1)·60 s). */
  startedAt: number;
  minute: number;
  /** Executions this minute may create in all. */
  rate: number;
  /** The rate from the next minute on. */
  nextRate: number;
  releasedThisMinute: number;
  notifiedSinceIncrease: number;
  succeededSinceIncrease: number;
}

const ceiling = (config: JobExecutionsRolloutConfig): number => config.maximumPerMinute ?? MAX_PER_MINUTE;

export function startRollout(config: JobExecutionsRolloutConfig, nowMs: number): RolloutState {
  const rate = Math.min(config.exponentialRate?.baseRatePerMinute ?? ceiling(config), ceiling(config));
  return { startedAt: nowMs, minute: 0, rate, nextRate: rate, releasedThisMinute: 0, notifiedSinceIncrease: 0, succeededSinceIncrease: 0 };
}

/** The state moved on to the minute `nowMs` falls in (unchanged within the same minute). */
function atTime(state: RolloutState, nowMs: number): RolloutState {
  const minute = Math.max(state.minute, Math.floor((nowMs - state.startedAt) / MINUTE_MS));
  if (minute === state.minute) return state;
  return { ...state, minute, rate: state.nextRate, releasedThisMinute: 0 };
}

/**
 * How many of the `remaining` not-yet-notified targets may be notified at `nowMs`, and the state
 * once they have been (their notification counted toward the increase criteria).
 */
export function release(config: JobExecutionsRolloutConfig, state: RolloutState, nowMs: number, remaining: number): { count: number; state: RolloutState } {
  const current = atTime(state, nowMs);
  const count = Math.max(0, Math.min(remaining, current.rate - current.releasedThisMinute));
  if (count === 0) return { count, state: current };
  const next = grow(config, { ...current, releasedThisMinute: current.releasedThisMinute + count, notifiedSinceIncrease: current.notifiedSinceIncrease + count }, 'numberOfNotifiedThings');
  return { count, state: next };
}

/** One more execution succeeded (toward `numberOfSucceededThings`). */
export function noteSucceeded(config: JobExecutionsRolloutConfig, state: RolloutState): RolloutState {
  return grow(config, { ...state, succeededSinceIncrease: state.succeededSinceIncrease + 1 }, 'numberOfSucceededThings');
}

function grow(config: JobExecutionsRolloutConfig, state: RolloutState, criterion: 'numberOfNotifiedThings' | 'numberOfSucceededThings'): RolloutState {
  const exp = config.exponentialRate;
  const threshold = exp?.rateIncreaseCriteria[criterion];
  if (!exp || threshold === undefined) return state;
  const counter = criterion === 'numberOfNotifiedThings' ? 'notifiedSinceIncrease' : 'succeededSinceIncrease';
  let { nextRate } = state;
  let count = state[counter];
  while (count >= threshold) {
    count -= threshold;
    nextRate = Math.min(ceiling(config), Math.max(nextRate + 1, Math.floor(nextRate * exp.incrementFactor)));
  }
  return { ...state, nextRate, [counter]: count };
}

/** When the next minute (and with it more notifications) begins. */
export function nextMinuteAt(state: RolloutState): number {
  return state.startedAt + (state.minute + 1) * MINUTE_MS;
}

export interface ExecutionCounts {
  /** Things notified of the job. */
  notified: number;
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
}

export interface AbortDecision {
  criteria: AbortCriteria;
  failures: number;
  notified: number;
  /** failures / notified, in percent. */
  percentage: number;
}

function failuresOf(type: FailureType, c: ExecutionCounts): number {
  if (type === 'FAILED') return c.failed;
  if (type === 'REJECTED') return c.rejected;
  if (type === 'TIMED_OUT') return c.timedOut;
  return c.failed + c.rejected + c.timedOut;
}

/**
 * The first criterion that fires: at least `minNumberOfExecutedThings` things notified, and
 * failures of its type at least `thresholdPercentage` % of them.
 */
export function abortDecision(criteriaList: readonly AbortCriteria[], counts: ExecutionCounts): AbortDecision | undefined {
  for (const criteria of criteriaList) {
    if (counts.notified === 0 || counts.notified < criteria.minNumberOfExecutedThings) continue;
    const failures = failuresOf(criteria.failureType, counts);
    const percentage = (failures / counts.notified) * 100;
    if (failures > 0 && percentage >= criteria.thresholdPercentage) return { criteria, failures, notified: counts.notified, percentage };
  }
  return undefined;
}

/** When an execution that went IN_PROGRESS at `startedAtMs` times out (undefined: never). */
export function timesOutAt(timeout: TimeoutConfig, startedAtMs: number): number | undefined {
  return timeout.inProgressTimeoutInMinutes === undefined ? undefined : startedAtMs + timeout.inProgressTimeoutInMinutes * MINUTE_MS;
}
