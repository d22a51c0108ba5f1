/**
 * The file-sync capability: keeps the file named by `desired.<property>` installed, verified, in
 * the destination directory, and tells the truth in `reported.<property>`. Each view of the shadow
 * means nothing wanted, already installed, not installable (report an error, wait for a new value)
 * or download: a job that retries with backoff until it succeeds, fails for a reason another try
 * cannot fix, or a newer value cancels it. Jobs run one after the other, so the state file always
 * names what the final path holds.
 */
import { stat } from 'node:fs/promises';
import { silentLogger, type Logger } from '../core/logger';
import { Backoff, DOWNLOAD_RETRY, retryUntil, sleep } from './backoff';
import { parseFileDesired, type FileDesired } from './desired';
import { discardPartial } from './partial-store';
import { installFile, isPermanent, reportedFor, toAgentError, type InstallDeps, type Reporter } from './install-file';
import { AgentError, CancelledError, DiskFullError, StateWriteError } from './errors';
import { freeBytes, nodeFs } from './agent-fs';
import type { HookContext, HookRunner } from './hook';
import { installPath } from './install-path';
import type { PropertyView, ShadowCapability } from './shadow-capability';
import { asUpdate } from './shadow-state';
import { deepEqual, isObject, type Json, type JsonObject } from '../core/shadow/json';
import type { InstalledFile } from './state-store';
import { SerialQueue } from '../core/util/serial-queue';

export interface FileSyncOptions {
  /** How a file is installed (shared with the job runner); `install.property` is the one followed. */
  install: InstallDeps;
  thingName: string;
  dest: string;
  reporter: Reporter;
  hook?: HookRunner;
  logger?: Logger;
  retry?: { initialMs: number; maxMs: number };
  /** One attempt per desired value, no retries (`--once`). */
  once?: boolean;
  /** Minimum time between progress events (default 250 ms). */
  progressIntervalMs?: number;
}

export type SyncOutcome = { status: 'in-sync'; installed?: InstalledFile } | { status: 'failed'; error: AgentError };

interface Target {
  desired: FileDesired;
  path: string;
}

interface Job {
  target: Target;
  controller: AbortController;
  done: Promise<void>;
}

/** Same bytes to the same place: a running download for this key is not restarted. */
function targetKey(t: Target): string {
  return JSON.stringify([t.desired.url, t.desired.hash, t.desired.versionId ?? null, t.path]);
}

/** The exact desired value: a value that failed for good is tried again only when it changes. */
function valueKey(t: Target): string {
  return JSON.stringify([t.desired.raw, t.path]);
}

/**
 * Emits on `install.events`: `settled` (a SyncOutcome) each time the property comes to rest, and
 * `quiet` whenever it may have become idle (see `idle`).
 */
export class FileSyncCapability implements ShadowCapability {
  readonly property: string;
  private readonly logger: Logger;
  private view: PropertyView | undefined;
  private job: Job | undefined;
  /** The last target that failed for good, so later views do not start it again. */
  private failedFor: string | undefined;
  /** The error reported for `failedFor`, re-sent if the shadow does not show it (report lost while offline). */
  private failedEntry: JsonObject | undefined;
  private readonly queue = new SerialQueue();
  private closed = false;
  /** Views queued or being reconciled, and `--on-update` hooks not yet finished. */
  private reconciling = 0;
  private hooksRunning = 0;
  private started = 0;

  constructor(private readonly options: FileSyncOptions) {
    this.property = options.install.property;
    this.logger = (options.logger ?? silentLogger).child({ property: this.property });
  }

  onShadow(view: PropertyView): void {
    this.view = view;
    if (this.closed) return;
    this.started++;
    this.reconciling++;
    void this.queue.run(async () => {
      try {
        await this.reconcile();
      } catch (err) {
        this.logger.error('reconcile failed', { err });
      } finally {
        this.reconciling--;
        this.mayBeIdle();
      }
    });
  }

  /** Every view handled, no download job (running or waiting to retry), no hook running. */
  get idle(): boolean {
    return this.reconciling === 0 && this.job === undefined && this.hooksRunning === 0;
  }

  /** Counts every start of work (a view, a job, a hook): tells one idle spell from the next. */
  get activity(): number {
    return this.started;
  }

  private mayBeIdle(): void {
    if (this.idle) this.options.install.events.emit('quiet');
  }

  private settle(outcome: SyncOutcome): void {
    this.options.install.events.emit('settled', outcome);
  }

  private async report(value: Json, what: string): Promise<boolean> {
    try {
      await this.options.reporter.report(this.property, value);
      return true;
    } catch (err) {
      this.logger.warn(`could not report ${what} yet`, { err });
      return false;
    }
  }

  private async installedAndPresent(): Promise<InstalledFile | undefined> {
    const installed = this.options.install.store.get(this.property);
    if (!installed) return undefined;
    const st = await stat(installed.path).catch(() => undefined);
    if (st?.isFile() && st.size === installed.size) return installed;
    this.logger.warn(`installed file ${st ? 'changed on disk' : 'is missing'}; it will be downloaded again`, { path: installed.path });
    return undefined;
  }

  private async reconcile(): Promise<void> {
    const view = this.view;
    if (!view || this.closed) return;
    const installed = await this.installedAndPresent();

    if (view.desired === undefined || view.desired === null) {
      await this.cancelJob('nothing is desired any more', true);
      const truth: Json = installed ? reportedFor(installed, installed.desired) : null;
      if (!deepEqual(view.reported ?? null, truth)) await this.report(truth === null ? null : asUpdate(view.reported, truth), 'the installed state');
      this.settle({ status: 'in-sync', ...(installed ? { installed } : {}) });
      return;
    }

    let target: Target;
    try {
      const desired = parseFileDesired(view.desired);
      target = { desired, path: installPath(this.options.dest, desired.key) };
    } catch (err) {
      await this.cancelJob('the desired value is not installable', true);
      // Reported once per value: later views of the same value (our own error report) change nothing.
      const rawKey = `invalid:${JSON.stringify(view.desired)}`;
      if (this.failedFor === rawKey) return this.reportError(view, this.failedEntry);
      this.failedFor = rawKey;
      const hash = isObject(view.desired) && typeof view.desired.hash === 'string' ? view.desired.hash : null;
      return this.fail(toAgentError(err), hash, view);
    }

    if (installed && installed.hash === target.desired.hash && installed.path === target.path) {
      await this.cancelJob('the desired file is already installed', true);
      const truth = reportedFor(installed, target.desired.raw);
      if (!deepEqual(view.reported, truth) && !(await this.report(asUpdate(view.reported, truth), 'the installed file'))) return;
      this.settle({ status: 'in-sync', installed });
      return;
    }

    if (this.job && targetKey(this.job.target) === targetKey(target)) return; // already on it
    if (this.failedFor === valueKey(target)) return this.reportError(view, this.failedEntry); // failed for good; waits for a new value
    await this.cancelJob('a newer desired value arrived', true);
    this.startJob(target);
  }

  private async cancelJob(reason: string, discard: boolean): Promise<void> {
    const job = this.job;
    if (!job) return;
    this.job = undefined;
    this.logger.info('cancelling download', { reason, url: job.target.desired.url, hash: job.target.desired.hash });
    job.controller.abort(new CancelledError(reason));
    await job.done;
    if (discard) await discardPartial(job.target.path, job.target.desired.hash).catch(() => undefined);
  }

  private startJob(target: Target): void {
    this.failedFor = undefined;
    const controller = new AbortController();
    const job: Job = { target, controller, done: Promise.resolve() };
    this.started++;
    job.done = this.runJob(target, controller.signal)
      .catch((err: unknown) => this.logger.error('download job failed unexpectedly', { err }))
      .finally(() => {
        if (this.job === job) this.job = undefined;
        this.mayBeIdle();
      });
    this.job = job;
  }

  private async runJob(target: Target, signal: AbortSignal): Promise<void> {
    const { desired, path } = target;
    const { store, fs = nodeFs } = this.options.install;
    const backoff = new Backoff(this.options.retry ?? DOWNLOAD_RETRY);
    const progressEvery = this.options.progressIntervalMs ?? 250;
    for (;;) {
      if (signal.aborted) return;
      this.logger.info('downloading', { url: desired.url, hash: desired.hash, versionId: desired.versionId, path, attempt: backoff.attempts + 1 });
      let lastProgress = 0;
      try {
        const installed = await installFile(this.options.install, desired, path, signal, (bytes, total) => {
          const now = Date.now();
          if (now - lastProgress < progressEvery && bytes !== total) return;
          lastProgress = now;
          this.options.install.events.emit('progress', { property: this.property, url: desired.url, bytes, total });
        });
        return await this.afterInstall(installed, desired);
      } catch (err) {
        if (err instanceof CancelledError || signal.aborted) return;
        const error = toAgentError(err);
        const permanent = isPermanent(error, desired);
        if (permanent || this.options.once) {
          if (permanent) this.failedFor = valueKey(target);
          return this.fail(error, desired.hash, this.view);
        }
        // Reported once; then only what can have changed is re-checked, nothing is downloaded again.
        await this.fail(error, desired.hash, this.view, false);
        this.logger.warn('download failed; retrying', { code: error.code, err: error.message });
        try {
          if (error instanceof StateWriteError) {
            // The file is in place: only the state is written again, not the download.
            await retryUntil(backoff, signal, () => store.set(this.property, error.installed).then(() => true, () => false));
            this.logger.info('state written again', { file: store.file });
            return await this.afterInstall(error.installed, desired);
          }
          // Disk full: downloaded again only once the object may fit.
          if (error instanceof DiskFullError) await retryUntil(backoff, signal, async () => (await freeBytes(fs, error.path).catch(() => Infinity)) >= error.needed);
          else await sleep(backoff.next(), signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Installed and recorded: run the hook, report, settle. */
  private async afterInstall(installed: InstalledFile, desired: FileDesired): Promise<void> {
    this.logger.info('installed', { path: installed.path, hash: installed.hash, size: installed.size });
    this.runHook({ ...installed, property: this.property, thingName: this.options.thingName });
    const ok = await this.report(asUpdate(this.view?.reported, reportedFor(installed, desired.raw)), 'the installed file');
    if (ok) this.settle({ status: 'in-sync', installed });
    else if (this.options.once) this.settle({ status: 'failed', error: new AgentError('installed, but the shadow did not accept the report', { code: 'REPORT_FAILED', retryable: true }) });
  }

  /** The hook runs beside the agent (not awaited), but counts as work under way until it ends. */
  private runHook(context: HookContext): void {
    const hook = this.options.hook;
    if (!hook) return;
    this.started++;
    this.hooksRunning++;
    void hook
      .run(context)
      .catch(() => undefined)
      .finally(() => {
        this.hooksRunning--;
        this.mayBeIdle();
      });
  }

  /** Report `reported.<property>.error`, tell listeners, and settle as failed (unless a retry follows). */
  private async fail(error: AgentError, hash: string | null, view: PropertyView | undefined, final = true): Promise<void> {
    this.logger.error('sync failed', { code: error.code, err: error.message, hash, retry: !final });
    const entry: JsonObject = { code: error.code, message: error.message, hash };
    if (final) this.failedEntry = entry;
    await this.reportError(view, entry);
    const events = this.options.install.events;
    if (events.listenerCount('error') > 0) events.emit('error', error);
    if (final) this.settle({ status: 'failed', error });
  }

  /** `reported.<property>.error`, unless the shadow already shows it. */
  private async reportError(view: PropertyView | undefined, entry: JsonObject | undefined): Promise<void> {
    const current = isObject(view?.reported) ? view.reported.error : undefined;
    if (entry && !deepEqual(current, entry)) await this.report({ error: entry }, 'the error');
  }

  /** Stop: a download under way is abandoned, its partial file kept for resuming after a restart. */
  async close(): Promise<void> {
    this.closed = true;
    await this.cancelJob('the agent is stopping', false);
    await this.queue.idle();
    await this.options.hook?.idle();
  }
}
