/**
 * The IoT Jobs stand-in: CreateJob (in process) rolled out, aborted and timed out by its settings,
 * and the device side over MQTT as IoT Core has it (`jobs/get`, `start-next`, `<jobId>/get|update`,
 * `notify`, `notify-next`), with job events on `$aws/events/job/<jobId>/completed|canceled`.
 * What it does not implement: docs/rollout.md ("In the sandbox").
 */
import { silentLogger, type Logger } from '../../core/logger';
import { timesOutAt, nextMinuteAt, type AbortDecision } from '../../core/jobs/rollout';
import { DEFAULT_ROLLOUT, type RolloutSettings } from '../../core/jobs/rollout-config';
import { JOB_ID_PATTERN } from '../../core/jobs/job-document';
import { DEVICE_STATUSES, jobTopics, parseJobRequestTopic, TERMINAL_STATUSES, type ExecutionStatus, type JobRequest } from '../../core/jobs/topics';
import { isObject } from '../../core/util/guards';
import { parseObject, type JsonObject } from '../../core/shadow/json';
import { ShadowplugError } from '../../core/errors';
import { executionData, executionSummary, jobEvent, JobRecord, type Execution, type JobSummary, type Wave } from './job-record';

export type { JobSummary, Wave } from './job-record';

export interface CreateJobInput {
  jobId: string;
  targets: readonly string[];
  /** The job document (JSON text, as CreateJob's `document`). */
  document: string;
  settings?: RolloutSettings;
}

export type JobEvent =
  | { type: 'created'; job: JobSummary }
  | { type: 'wave'; jobId: string; wave: Wave }
  | { type: 'execution'; jobId: string; thingName: string; status: ExecutionStatus; statusDetails?: Record<string, string> }
  | { type: 'completed' | 'canceled'; job: JobSummary };

export interface JobsServiceOptions {
  publish: (topic: string, payload: JsonObject) => void;
  /** Epoch ms (default Date.now). */
  clock?: () => number;
  /** Run `fn` once the clock reaches `at` (default a timer); returns its cancel. */
  schedule?: (at: number, fn: () => void) => () => void;
  logger?: Logger;
}

/** What goes to `/accepted` or, with the rejection's code (and the execution's state, when there is one), to `/rejected`. */
type Answer = { ok: boolean; body: JsonObject };
const accept = (body: JsonObject): Answer => ({ ok: true, body });
const reject = (code: string, message: string, execution?: Execution): Answer => ({ ok: false, body: { code, message, ...(execution ? { executionState: executionState(execution) } : {}) } });

function executionState(e: Execution): JsonObject {
  return { status: e.status, ...(e.statusDetails ? { statusDetails: e.statusDetails } : {}), versionNumber: e.versionNumber };
}

export class JobsService {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly listeners = new Set<(e: JobEvent) => void>();
  private readonly timers = new Set<() => void>();
  /** When each job's next release is planned (one timer per job and minute). */
  private readonly planned = new Map<string, number>();
  /** The job each thing was last told is its next (notify-next goes out when it changes). */
  private readonly lastNext = new Map<string, string | undefined>();
  private readonly clock: () => number;
  private readonly schedule: (at: number, fn: () => void) => () => void;
  private readonly logger: Logger;

  constructor(private readonly options: JobsServiceOptions) {
    this.clock = options.clock ?? Date.now;
    this.schedule =
      options.schedule ??
      ((at, fn) => {
        const timer = setTimeout(fn, Math.max(0, at - this.clock()));
        timer.unref();
        return () => clearTimeout(timer);
      });
    this.logger = options.logger ?? silentLogger;
  }

  onEvent(listener: (e: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: JobEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch (err) {
        this.logger.error('job event listener failed', { err });
      }
    }
  }

  createJob(input: CreateJobInput): JobSummary {
    if (!JOB_ID_PATTERN.test(input.jobId)) throw new ShadowplugError(`Invalid jobId ${JSON.stringify(input.jobId)}: expected [a-zA-Z0-9_-]{1,64}`, { code: 'JOBS_INVALID_REQUEST', retryable: false });
    if (this.jobs.has(input.jobId)) throw new ShadowplugError(`Job ${input.jobId} already exists`, { code: 'JOBS_RESOURCE_ALREADY_EXISTS', retryable: false });
    if (input.targets.length === 0) throw new ShadowplugError(`Job ${input.jobId} has no targets`, { code: 'JOBS_INVALID_REQUEST', retryable: false });
    let document: JsonObject;
    try {
      document = parseObject(Buffer.from(input.document));
    } catch (err) {
      throw new ShadowplugError(`Job ${input.jobId}: the document is not a JSON object`, { code: 'JOBS_INVALID_REQUEST', retryable: false, cause: err });
    }
    const job = new JobRecord(input.jobId, document, [...new Set(input.targets)], input.settings ?? DEFAULT_ROLLOUT, this.clock());
    this.jobs.set(job.jobId, job);
    this.logger.info('job created', { jobId: job.jobId, targets: job.targets.length });
    this.emit({ type: 'created', job: job.summary() });
    this.advance(job);
    return job.summary();
  }

  describeJob(jobId: string): JobSummary | undefined {
    return this.jobs.get(jobId)?.summary();
  }

  /** Cancel the job as its abortConfig says (CancelJob, not forced): queued executions are canceled, those in progress may finish. */
  private abort(job: JobRecord, abort: AbortDecision): void {
    const a = abort.criteria;
    job.status = 'CANCELED';
    job.abort = abort;
    job.comment = `abortConfig: ${abort.failures} of ${abort.notified} notified things (${abort.percentage.toFixed(1)} %) ended ${a.failureType === 'ALL' ? 'FAILED, REJECTED or TIMED_OUT' : a.failureType}, threshold ${a.thresholdPercentage} % after ${a.minNumberOfExecutedThings}`;
    for (const e of job.executions.values()) if (e.status === 'QUEUED') this.setStatus(job, e, 'CANCELED');
    this.logger.info('job canceled', { jobId: job.jobId, comment: job.comment });
    this.finish(job, 'canceled');
  }

  /** Do whatever is due at the clock's time (a test calls this after moving its clock). */
  tick(): void {
    for (const job of this.jobs.values()) this.advance(job);
  }

  close(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  private later(at: number, fn: () => void): void {
    const cancel = this.schedule(at, () => {
      this.timers.delete(cancel);
      fn();
    });
    this.timers.add(cancel);
  }

  /** Release the executions the rate allows now, and plan the next release. */
  private advance(job: JobRecord): void {
    const released = job.releaseDue(this.clock());
    if (released.length > 0) {
      this.emit({ type: 'wave', jobId: job.jobId, wave: job.waves.at(-1)! });
      for (const e of released) this.pendingChanged(e.thingName);
    }
    if (job.pendingRelease) {
      const at = nextMinuteAt(job.rollout);
      if (this.planned.get(job.jobId) !== at) {
        this.planned.set(job.jobId, at);
        this.later(at, () => this.advance(job));
      }
    }
    if (job.status !== 'IN_PROGRESS' || !job.finished) return;
    job.status = 'COMPLETED';
    this.logger.info('job completed', { jobId: job.jobId });
    this.finish(job, 'completed');
  }

  private finish(job: JobRecord, operation: 'completed' | 'canceled'): void {
    const summary = job.summary();
    this.options.publish(`$aws/events/job/${job.jobId}/${operation}`, jobEvent(job, summary, operation, this.clock()));
    this.emit({ type: operation, job: summary });
  }

  private setStatus(job: JobRecord, e: Execution, status: ExecutionStatus, statusDetails?: Record<string, string>): void {
    const now = this.clock();
    e.status = status;
    if (statusDetails) e.statusDetails = statusDetails;
    if (status === 'IN_PROGRESS' && e.startedAt === undefined) {
      e.startedAt = now;
      const at = timesOutAt(job.settings.timeoutConfig, now);
      if (at !== undefined) this.later(at, () => e.status === 'IN_PROGRESS' && this.setStatus(job, e, 'TIMED_OUT'));
    }
    e.lastUpdatedAt = now;
    e.versionNumber++;
    this.emit({ type: 'execution', jobId: job.jobId, thingName: e.thingName, status, ...(e.statusDetails ? { statusDetails: e.statusDetails } : {}) });
    if (!TERMINAL_STATUSES.has(status)) return;
    this.pendingChanged(e.thingName);
    const abort = job.ended(e);
    if (abort) this.abort(job, abort);
    else if (job.status === 'IN_PROGRESS') this.advance(job);
  }

  /** The thing's pending executions: in progress first, then queued, oldest first; and their summaries by status. */
  private pending(thingName: string): { all: { job: JobRecord; execution: Execution }[]; inProgress: JsonObject[]; queued: JsonObject[] } {
    const all: { job: JobRecord; execution: Execution }[] = [];
    for (const job of this.jobs.values()) {
      const e = job.executions.get(thingName);
      if (e && (e.status === 'QUEUED' || e.status === 'IN_PROGRESS')) all.push({ job, execution: e });
    }
    const rank = (e: Execution) => (e.status === 'IN_PROGRESS' ? 0 : 1);
    all.sort((a, b) => rank(a.execution) - rank(b.execution) || a.execution.queuedAt - b.execution.queuedAt || a.execution.executionNumber - b.execution.executionNumber);
    const of = (status: ExecutionStatus) => all.filter((p) => p.execution.status === status).map((p) => executionSummary(p.execution));
    return { all, inProgress: of('IN_PROGRESS'), queued: of('QUEUED') };
  }

  /** Tell the thing when its next pending execution (or its pending list) changed. */
  private pendingChanged(thingName: string): void {
    const t = jobTopics(thingName);
    const { all, inProgress, queued } = this.pending(thingName);
    const timestamp = Math.floor(this.clock() / 1000);
    this.options.publish(t.notify, { timestamp, jobs: { ...(inProgress.length ? { IN_PROGRESS: inProgress } : {}), ...(queued.length ? { QUEUED: queued } : {}) } });
    const next = all[0];
    const key = next?.job.jobId;
    if (this.lastNext.get(thingName) === key) return;
    this.lastNext.set(thingName, key);
    this.options.publish(t.notifyNext, { timestamp, ...(next ? { execution: executionData(next.execution, next.job.document) } : {}) });
  }

  /** A device's publish on a jobs request topic; false when the topic is not one. */
  handleMqtt(topic: string, payload: Buffer): boolean {
    const request = parseJobRequestTopic(topic);
    if (!request) return false;
    const t = jobTopics(request.thingName);
    const base = 'jobId' in request ? `${t.prefix}/${request.jobId}/${request.operation === 'job-get' ? 'get' : 'update'}` : `${t.prefix}/${request.operation}`;
    const timestamp = Math.floor(this.clock() / 1000);
    let body: JsonObject = {};
    try {
      if (payload.length > 0) body = parseObject(payload);
    } catch {
      this.options.publish(`${base}/rejected`, { code: 'InvalidJson', message: 'The request is not a JSON object', timestamp });
      return true;
    }
    const token: JsonObject = typeof body.clientToken === 'string' ? { clientToken: body.clientToken } : {};
    const { ok, body: answer } = this.answer(request, body);
    this.options.publish(`${base}/${ok ? 'accepted' : 'rejected'}`, { ...answer, timestamp, ...token });
    return true;
  }

  private answer(request: JobRequest, body: JsonObject): Answer {
    const { thingName } = request;
    if (request.operation === 'get') {
      const { inProgress, queued } = this.pending(thingName);
      return accept({ inProgressJobs: inProgress, queuedJobs: queued });
    }
    if (request.operation === 'start-next') {
      const next = this.pending(thingName).all[0];
      if (!next) return accept({});
      if (next.execution.status === 'QUEUED') this.setStatus(next.job, next.execution, 'IN_PROGRESS', statusDetailsOf(body) ?? undefined);
      return accept({ execution: executionData(next.execution, next.job.document) });
    }
    if (!('jobId' in request)) return reject('InvalidTopic', 'Unknown jobs topic');
    const found = request.jobId === '$next' ? this.pending(thingName).all[0] : this.executionOf(thingName, request.jobId);
    if (!found) return reject('ResourceNotFound', `No job execution of ${request.jobId} for ${thingName}`);
    const { job, execution } = found;
    if (request.operation === 'job-get') return accept({ execution: executionData(execution, body.includeJobDocument === false ? undefined : job.document) });
    return this.update(job, execution, body);
  }

  private executionOf(thingName: string, jobId: string): { job: JobRecord; execution: Execution } | undefined {
    const job = this.jobs.get(jobId);
    const execution = job?.executions.get(thingName);
    return job && execution ? { job, execution } : undefined;
  }

  private update(job: JobRecord, execution: Execution, body: JsonObject): Answer {
    const status = body.status as ExecutionStatus;
    if (typeof body.status !== 'string' || !DEVICE_STATUSES.has(status)) return reject('InvalidRequest', `status must be one of ${[...DEVICE_STATUSES].join(', ')}`);
    if (body.expectedVersion !== undefined && body.expectedVersion !== execution.versionNumber) return reject('VersionMismatch', 'The expected version does not match', execution);
    if (TERMINAL_STATUSES.has(execution.status)) return reject('InvalidStateTransition', `The job execution is already ${execution.status}`, execution);
    const details = statusDetailsOf(body);
    if (details === null) return reject('InvalidRequest', 'statusDetails must map names to strings');
    this.setStatus(job, execution, status, details);
    return accept({ executionState: executionState(execution), ...(body.includeJobDocument === true ? { jobDocument: job.document } : {}) });
  }
}

/** `statusDetails` as IoT takes it (strings only); undefined when absent, null when malformed. */
function statusDetailsOf(body: JsonObject): Record<string, string> | undefined | null {
  const d = body.statusDetails;
  if (d === undefined) return undefined;
  if (!isObject(d) || !Object.values(d).every((v) => typeof v === 'string')) return null;
  return d as Record<string, string>;
}
