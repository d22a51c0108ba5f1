/**
 * What the requests of one object read share: one abort signal (the first failure aborts every
 * other request: they are wasted work), the first failure, and a wake-up for the loop that hands
 * bytes to the sink when more have arrived.
 */
import { setMaxListeners } from 'node:events';
import type { ObjectReadTarget } from './object-get';
import { mapS3Error } from './s3-errors';

export class ReadSession {
  private readonly controller = new AbortController();
  private firstFailure: unknown;
  private wake: (() => void) | undefined;
  private readonly onOuterAbort = () => this.fail(this.outer?.reason ?? new Error('aborted'));

  constructor(
    private readonly target: ObjectReadTarget,
    private readonly outer: AbortSignal | undefined,
    concurrency: number,
  ) {
    // One signal is shared by every request of the read (up to 1 + 2 × concurrency at once), on purpose.
    setMaxListeners(4 * concurrency + 16, this.controller.signal);
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    if (outer?.aborted) this.onOuterAbort();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get failed(): boolean {
    return this.firstFailure !== undefined;
  }

  /** Record the first failure (as a typed S3 error) and abort everything else. */
  readonly fail = (err: unknown): void => {
    if (this.firstFailure === undefined && !this.controller.signal.aborted) {
      this.firstFailure = mapS3Error(err, this.target.bucket, this.target.key);
      this.controller.abort(this.firstFailure);
    }
    this.notify();
  };

  throwIfFailed(): void {
    if (this.firstFailure !== undefined) throw this.firstFailure;
  }

  /** More bytes (or a failure): wake the loop waiting in `sleep`. */
  readonly notify = (): void => {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  };

  sleep(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** Finished, failed or abandoned: no request may outlive the reader. */
  close(): void {
    this.outer?.removeEventListener('abort', this.onOuterAbort);
    this.controller.abort();
  }
}
