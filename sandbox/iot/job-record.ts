/**
 * One job of the Jobs stand-in: its targets, the executions created so far (one per notified
 * thing), the roll-out state (core/jobs/rollout.ts), the waves it went out in, and why it ended.
 * The MQTT side lives in ./jobs-service.ts.
 */
import { abortDecision, noteSucceeded, release, startRollout, type AbortDecision, type RolloutState } from '../../core/jobs/rollout';
import type { RolloutSettings } from '../../core/jobs/rollout-config';
import { TERMINAL_STATUSES, type ExecutionStatus } from '../../core/jobs/topics';
import type { JsonObject } from '../../core/shadow/json';

export interface Execution {
  jobId: string;
  thingName: string;
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

export interface Wave {
  /** Minute of the roll-out (0 = the first). */
  minute: number;
  at: number;
  things: string[];
}

export type JobStatus = 'IN_PROGRESS' | 'COMPLETED' | 'CANCELED';

export interface JobSummary {
  jobId: string;
  status: JobStatus;
  targets: number;
  counts: Record<ExecutionStatus, number> & { notNotified: number };
  waves: Wave[];
  /** The abort rule that canceled the job, with the numbers that made it fire. */
  abort?: AbortDecision;
  comment?: string;
  /** Executions that ended FAILED, REJECTED or TIMED_OUT, with their `statusDetails`. */
  failures: { thingName: string; status: ExecutionStatus; statusDetails?: Record<string, string> }[];
}

const FAILURE_STATUSES: ReadonlySet<ExecutionStatus> = new Set(['FAILED', 'REJECTED', 'TIMED_OUT']);
let executionNumbers = 0;

export class JobRecord {
  status: JobStatus = 'IN_PROGRESS';
  readonly executions = new Map<string, Execution>();
  readonly waves: Wave[] = [];
  abort: AbortDecision | undefined;
  comment: string | undefined;
  rollout: RolloutState;
  private readonly notNotified: string[];

  constructor(
    readonly jobId: string,
    readonly document: JsonObject,
    readonly targets: readonly string[],
    readonly settings: RolloutSettings,
    readonly createdAt: number,
  ) {
    this.notNotified = [...targets];
    this.rollout = startRollout(settings.jobExecutionsRolloutConfig, createdAt);
  }

  /** Create the executions the rate allows at `now`; returns them (the new wave). */
  releaseDue(now: number): Execution[] {
    if (this.status !== 'IN_PROGRESS' || this.notNotified.length === 0) return [];
    const r = release(this.settings.jobExecutionsRolloutConfig, this.rollout, now, this.notNotified.length);
    this.rollout = r.state;
    const things = this.notNotified.splice(0, r.count);
    if (things.length === 0) return [];
    this.waves.push({ minute: this.rollout.minute, at: now, things });
    return things.map((thingName) => {
      const execution: Execution = { jobId: this.jobId, thingName, status: 'QUEUED', queuedAt: now, lastUpdatedAt: now, versionNumber: 1, executionNumber: ++executionNumbers };
      this.executions.set(thingName, execution);
      return execution;
    });
  }

  get pendingRelease(): boolean {
    return this.status === 'IN_PROGRESS' && this.notNotified.length > 0;
  }

  /** An execution reached a terminal status: count it toward the rate, and say whether the job aborts. */
  ended(execution: Execution): AbortDecision | undefined {
    if (execution.status === 'SUCCEEDED') this.rollout = noteSucceeded(this.settings.jobExecutionsRolloutConfig, this.rollout);
    if (!FAILURE_STATUSES.has(execution.status) || this.status !== 'IN_PROGRESS') return undefined;
    const c = this.summary().counts;
    return abortDecision(this.settings.abortConfig.criteriaList, { notified: this.executions.size, succeeded: c.SUCCEEDED, failed: c.FAILED, rejected: c.REJECTED, timedOut: c.TIMED_OUT });
  }

  /** Every target notified and every execution ended. */
  get finished(): boolean {
    return this.notNotified.length === 0 && [...this.executions.values()].every((e) => TERMINAL_STATUSES.has(e.status));
  }

  summary(): JobSummary {
    const counts = { QUEUED: 0, IN_PROGRESS: 0, SUCCEEDED: 0, FAILED: 0, REJECTED: 0, TIMED_OUT: 0, CANCELED: 0, REMOVED: 0, notNotified: this.notNotified.length };
    const failures: JobSummary['failures'] = [];
    for (const e of this.executions.values()) {
      counts[e.status]++;
      if (FAILURE_STATUSES.has(e.status)) failures.push({ thingName: e.thingName, status: e.status, ...(e.statusDetails ? { statusDetails: e.statusDetails } : {}) });
    }
    return {
      jobId: this.jobId,
      status: this.status,
      targets: this.targets.length,
      counts,
      waves: this.waves.map((w) => ({ ...w, things: [...w.things] })),
      ...(this.abort ? { abort: this.abort } : {}),
      ...(this.comment ? { comment: this.comment } : {}),
      failures,
    };
  }
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** JobExecutionSummary (GetPendingJobExecutions, notify), timestamps in epoch seconds. */
export function executionSummary(e: Execution): JsonObject {
  return {
    jobId: e.jobId,
    queuedAt: seconds(e.queuedAt),
    ...(e.startedAt !== undefined ? { startedAt: seconds(e.startedAt) } : {}),
    lastUpdatedAt: seconds(e.lastUpdatedAt),
    versionNumber: e.versionNumber,
    executionNumber: e.executionNumber,
  };
}

/** JobExecutionData as the device API sends it: the summary with the thing, status and document. */
export function executionData(e: Execution, document: JsonObject | undefined): JsonObject {
  return {
    ...executionSummary(e),
    thingName: e.thingName,
    ...(document ? { jobDocument: document } : {}),
    status: e.status,
    ...(e.statusDetails ? { statusDetails: e.statusDetails } : {}),
  };
}

/** The job event IoT publishes on `$aws/events/job/<jobId>/completed|canceled` (job events enabled). */
export function jobEvent(job: JobRecord, summary: JobSummary, operation: 'completed' | 'canceled', now: number): JsonObject {
  const c = summary.counts;
  return {
    eventType: 'JOB',
    eventId: `${job.jobId}-${operation}`,
    timestamp: seconds(now),
    operation,
    jobId: job.jobId,
    status: summary.status,
    targetSelection: 'SNAPSHOT',
    targets: [...job.targets],
    ...(summary.comment ? { comment: summary.comment } : {}),
    ...(summary.abort ? { reasonCode: 'ABORT_CRITERIA_MET' } : {}),
    createdAt: seconds(job.createdAt),
    lastUpdatedAt: seconds(now),
    ...(operation === 'completed' ? { completedAt: seconds(now) } : {}),
    jobProcessDetails: {
      numberOfCanceledThings: c.CANCELED,
      numberOfSucceededThings: c.SUCCEEDED,
      numberOfFailedThings: c.FAILED,
      numberOfRejectedThings: c.REJECTED,
      numberOfQueuedThings: c.QUEUED,
      numberOfInProgressThings: c.IN_PROGRESS,
      numberOfRemovedThings: c.REMOVED,
      numberOfTimedOutThings: c.TIMED_OUT,
    },
  };
}
