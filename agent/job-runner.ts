/**
 * Roll-out mode: file deliveries as IoT Jobs on the thing's own job topics, over the shadow
 * session's connection. `start-next`, install as a shadow delivery would (install-file.ts), run the
 * `--on-update` hook and wait for it, then update the execution: IN_PROGRESS with progress,
 * SUCCEEDED, or FAILED with the code `reported.<property>.error` would carry (HOOK_FAILED: the
 * hook exited non-zero; HOOK_INTERRUPTED: the agent stopped while it ran, never run again). The
 * outcome also goes into `reported.<property>` and `reported.job`. The journal is written before
 * every step that cannot be repeated: after a restart a known outcome is reported again, never
 * run again, and a job cut off mid-way resumes.
 */
import { silentLogger, type Logger } from '../core/logger';
import { parseJobDocument } from '../core/jobs/job-document';
import { jobTopics, type JobTopics } from '../core/jobs/topics';
import { isObject, type JsonObject } from '../core/shadow/json';
import { Backoff, sleep } from './backoff';
import { parseFileDesired, type FileDesired } from './desired';
import { CancelledError } from './errors';
import type { HookRunner } from './hook';
import { installFile, isPermanent, reportedFor, toAgentError, type InstallDeps, type Reporter } from './install-file';
import { installPath } from './install-path';
import type { JobJournal, JobOutcome } from './job-journal';
import { readMessage, type ShadowListener } from './shadow-capability';

export interface JobRunnerOptions {
  thingName: string;
  dest: string;
  install: InstallDeps;
  journal: JobJournal;
  /** Publish on the session's connection; false when offline (the runner asks again on reconnect). */
  link: { publish(topic: string, body: string): boolean };
  reporter: Reporter;
  hook?: HookRunner;
  logger?: Logger;
  /** Download retries before the execution is FAILED (default 5 attempts, 2 s doubling). */
  retry?: { initialMs: number; maxMs: number; attempts: number };
  /** Minimum time between IN_PROGRESS progress updates (default 1 s). */
  progressIntervalMs?: number;
  /** Told of each outcome sent (for the agent's `job` event). */
  onOutcome?: (jobId: string, outcome: JobOutcome) => void;
}

export class JobRunner implements ShadowListener {
  readonly topics: readonly string[];
  private readonly t: JobTopics;
  private readonly logger: Logger;
  private running: { jobId: string; controller: AbortController; done: Promise<void> } | undefined;
  private closed = false;

  constructor(private readonly options: JobRunnerOptions) {
    this.t = jobTopics(options.thingName);
    this.topics = [this.t.notifyNext, this.t.startNextAccepted, this.t.startNextRejected];
    this.logger = (options.logger ?? silentLogger).child({ component: 'jobs' });
  }

  /** No job being run. */
  get idle(): boolean {
    return this.running === undefined;
  }

  onConnected(): void {
    this.askNext();
  }

  private askNext(): void {
    if (!this.closed && !this.running) this.options.link.publish(this.t.startNext, JSON.stringify({}));
  }

  onMessage(topic: string, payload: Buffer): void {
    const msg = readMessage(payload, topic, this.logger, 'jobs');
    if (!msg) return;
    if (topic === this.t.startNextRejected) this.logger.warn('start-next rejected', { code: msg.code, message: msg.message });
    else if (topic === this.t.notifyNext && isObject(msg.execution)) this.askNext();
    else if (topic === this.t.startNextAccepted && isObject(msg.execution)) this.take(msg.execution);
  }

  private take(execution: JsonObject): void {
    const jobId = typeof execution.jobId === 'string' ? execution.jobId : undefined;
    if (!jobId || this.closed || this.running) return;
    const known = this.options.journal.outcome(jobId);
    if (known) {
      this.logger.info('job already done here; reporting its outcome again', { jobId, status: known.status });
      this.sendOutcome(jobId, known);
      return;
    }
    const controller = new AbortController();
    const run = { jobId, controller, done: Promise.resolve() };
    this.running = run;
    run.done = this.run(jobId, execution.jobDocument, controller.signal)
      .catch((err: unknown) => this.logger.error('job run failed unexpectedly', { jobId, err }))
      .finally(() => {
        this.running = undefined;
        this.askNext();
      });
  }

  private async run(jobId: string, document: unknown, signal: AbortSignal): Promise<void> {
    // Stopped while the hook ran: whether it finished is unknown, and it must not run twice.
    const hook = this.options.journal.hookStarted(jobId);
    if (hook) return this.finish(jobId, failed('HOOK_INTERRUPTED', 'the agent stopped while the on-update hook ran; the file stays installed and the hook is not run again', hook.hash));
    await this.options.journal.start(jobId);
    let desired: FileDesired;
    try {
      desired = parseFileDesired(parseJobDocument(document).file);
    } catch (err) {
      const error = toAgentError(err);
      return this.finish(jobId, failed(error.code === 'JOB_DOCUMENT_INVALID' ? error.code : 'INVALID_DESIRED', error.message, null));
    }
    this.logger.info('job started', { jobId, url: desired.url, hash: desired.hash });
    this.update(jobId, { step: 'download', progress: '0' });
    const outcome = await this.install(jobId, desired, signal);
    if (outcome === undefined) return; // stopping: the execution stays IN_PROGRESS and resumes
    await this.finish(jobId, outcome);
  }

  /** Install with retries; undefined when cancelled. */
  private async install(jobId: string, desired: FileDesired, signal: AbortSignal): Promise<JobOutcome | undefined> {
    const retry = this.options.retry ?? { initialMs: 2000, maxMs: 60_000, attempts: 5 };
    const backoff = new Backoff(retry);
    const path = installPath(this.options.dest, desired.key);
    const every = this.options.progressIntervalMs ?? 1000;
    let last = 0;
    for (;;) {
      try {
        const installed = await installFile(this.options.install, desired, path, signal, (bytes, total) => {
          const now = Date.now();
          if (now - last < every) return;
          last = now;
          this.update(jobId, { step: 'download', progress: total ? String(Math.floor((bytes / total) * 100)) : String(bytes) });
        });
        const hook = this.options.hook;
        if (hook) await this.options.journal.startHook(jobId, installed.hash);
        const exit = hook ? await hook.run({ ...installed, property: this.options.install.property, thingName: this.options.thingName }) : 0;
        if (exit !== 0) return failed('HOOK_FAILED', `the on-update hook exited with ${exit}; the file stays installed`, desired.hash);
        await this.options.reporter.report(this.options.install.property, reportedFor(installed, desired.raw)).catch((err: unknown) => this.logger.warn('could not report the installed file yet', { err }));
        return { status: 'SUCCEEDED', statusDetails: { hash: installed.hash, path } };
      } catch (err) {
        if (err instanceof CancelledError || signal.aborted) return undefined;
        const error = toAgentError(err);
        if (isPermanent(error, desired) || backoff.attempts + 1 >= retry.attempts) return failed(error.code, error.message, desired.hash);
        const delay = backoff.next();
        this.logger.warn('job download failed; retrying', { jobId, code: error.code, inMs: delay });
        try {
          await sleep(delay, signal);
        } catch {
          return undefined;
        }
      }
    }
  }

  private async finish(jobId: string, outcome: JobOutcome): Promise<void> {
    await this.options.journal.finish(jobId, outcome);
    this.logger.info('job finished', { jobId, status: outcome.status, code: outcome.statusDetails.code });
    this.sendOutcome(jobId, outcome);
  }

  private sendOutcome(jobId: string, outcome: JobOutcome): void {
    this.options.link.publish(this.t.update(jobId), JSON.stringify({ status: outcome.status, statusDetails: outcome.statusDetails }));
    this.options.onOutcome?.(jobId, outcome);
    void this.options.reporter.report('job', { jobId, status: outcome.status, ...outcome.statusDetails }).catch((err: unknown) => this.logger.warn('could not report the job into the shadow yet', { err }));
  }

  private update(jobId: string, details: Record<string, string>): void {
    this.options.link.publish(this.t.update(jobId), JSON.stringify({ status: 'IN_PROGRESS', statusDetails: details }));
  }

  /** Stop: a job under way is left IN_PROGRESS with its partial file, and resumes on the next start. */
  async close(): Promise<void> {
    this.closed = true;
    const run = this.running;
    if (!run) return;
    run.controller.abort(new CancelledError('the agent is stopping'));
    await run.done;
  }
}

function failed(code: string, message: string, hash: string | null): JobOutcome {
  // IoT allows 1,024 characters per statusDetails value.
  return { status: 'FAILED', statusDetails: { code, message: message.slice(0, 1000), ...(hash ? { hash } : {}) } };
}
