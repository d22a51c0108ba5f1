/**
 * A transport's hold on one device (see device-lock.ts): waits for the lease within a deadline
 * (several callers of the same transport share one place in the queue), keeps it while requests
 * are in flight or an idle connection is worth keeping, and gives it up when another caller waits,
 * when the connection is gone, or after an idle period, but only once every connection the
 * transport closed has finished closing, so the device never sees two clients at once.
 */
import type { DeviceLease, DeviceLocks } from './device-lock';
import { TplinkConnectionResetError, TplinkTimeoutError, type TplinkEndpoint } from './errors';

/** What the holder needs to know about, and do to, the transport's connection. */
export interface HeldConnection {
  /** Whether an open connection is worth keeping while idle. */
  isOpen(): boolean;
  /** Idle: the connection stays, but must not keep the process alive. */
  park(): void;
  /** Closes the connection gracefully (its close is tracked through {@link LeaseHolder.trackClose}). */
  drop(): void;
}

export interface LeaseHolderOptions {
  locks: DeviceLocks;
  key: string;
  endpoint: TplinkEndpoint;
  /** Named in queue timeouts. */
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  connection: HeldConnection;
}

/** One wait for the device lock, shared by every caller of this transport that needs the lease. */
interface Acquiring {
  done: Promise<void>;
  abort: AbortController;
  /** Callers still waiting for it; when the last gives up, the wait is withdrawn from the lock's queue. */
  waiting: number;
}

export class LeaseHolder {
  private lease: DeviceLease | undefined;
  private acquiring: Acquiring | undefined;
  private busy = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The transport's own requests, one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Settles when every connection closed so far has finished closing. */
  private closing: Promise<void> | undefined;

  constructor(private readonly options: LeaseHolderOptions) {}

  /** The error of a call on a closed transport. */
  closedError(): TplinkConnectionResetError {
    return new TplinkConnectionResetError(this.options.endpoint, 'transport is closed');
  }

  /** Throws {@link closedError} when closed. */
  assertOpen(): void {
    if (this.closed) throw this.closedError();
  }

  /**
   * One request's (or hold's) budget: runs `fn(deadline)` holding the device, the deadline one
   * request timeout from now also bounding the wait for the device. Refused when closed, before the
   * wait and again once the device is granted.
   */
  within<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    this.assertOpen();
    const deadline = Date.now() + this.options.requestTimeoutMs;
    return this.use(deadline, () => {
      this.assertOpen();
      return fn(deadline);
    });
  }

  /** Runs `fn` like {@link within}, after every request queued before it has settled; its budget starts then. */
  inTurn<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.within(fn));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` holding the device, waiting for it until `deadline` at most; then idles or hands it over. */
  async use<T>(deadline: number, fn: () => Promise<T>): Promise<T> {
    this.busy++;
    try {
      await this.ensureLease(deadline);
      return await fn();
    } finally {
      this.busy--;
      this.afterUse();
    }
  }

  /** Adds a connection's close to what the hand-over waits for. */
  trackClose(closed: Promise<void>): void {
    const previous = this.closing;
    const all: Promise<void> = previous ? Promise.all([previous, closed]).then(() => undefined) : closed;
    this.closing = all;
    void all.then(() => {
      if (this.closing === all) this.closing = undefined;
    });
  }

  /** Fails waiters with `reason` (default {@link closedError}), drops the connection, frees the device; settles once all is closed. */
  async close(reason?: Error): Promise<void> {
    this.closed = true;
    const acquiring = this.acquiring;
    this.acquiring = undefined;
    acquiring?.abort.abort(reason ?? this.closedError());
    this.options.connection.drop();
    this.releaseLease();
    await this.closing;
  }

  /** After a request, a hold, or the connection closing while idle: hand over, or idle. */
  afterUse(): void {
    if (this.busy > 0 || this.lease === undefined) return;
    const { connection } = this.options;
    if (this.closed || this.lease.contended || !connection.isOpen()) {
      connection.drop();
      this.releaseLease();
      return;
    }
    connection.park();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.busy === 0) {
        connection.drop();
        this.releaseLease();
      }
    }, this.options.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /**
   * Waits for the device until `deadline` at most. A caller that runs out of time fails with a
   * `queue` timeout; when the last one gives up the place is withdrawn, so the device is never
   * granted to nobody.
   */
  private async ensureLease(deadline: number): Promise<void> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (this.lease) return;
    if (this.acquiring === undefined) {
      // A free device is granted at once: no wait, so no timer or abort signal to set up.
      const lease = this.options.locks.tryAcquire(this.options.key);
      if (lease) {
        this.adopt(lease);
        return;
      }
    }
    const current = this.acquiring ?? this.startAcquiring();
    current.waiting++;
    let timer: NodeJS.Timeout | undefined;
    const waitMs = Math.max(1, deadline - Date.now());
    try {
      await Promise.race([
        current.done,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(this.queueTimeout()), waitMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      current.waiting--;
      if (current.waiting === 0 && this.acquiring === current && this.lease === undefined) {
        this.acquiring = undefined;
        current.abort.abort(this.queueTimeout());
      }
    }
  }

  private startAcquiring(): Acquiring {
    const abort = new AbortController();
    const started: Acquiring = {
      abort,
      waiting: 0,
      done: this.options.locks.acquire(this.options.key, abort.signal).then((lease) => {
        if (this.acquiring === started) this.acquiring = undefined;
        if (this.closed) {
          lease.release();
          return;
        }
        this.adopt(lease);
        // Granted just as its last caller gave up: hand it on at once.
        this.afterUse();
      }),
    };
    started.done.catch(() => undefined); // withdrawn: every caller has had its own error
    this.acquiring = started;
    return started;
  }

  private adopt(lease: DeviceLease): void {
    this.lease = lease;
    // Someone else wants the device: let go as soon as nothing is in flight.
    lease.onContended = () => this.afterUse();
  }

  private queueTimeout(): TplinkTimeoutError {
    return new TplinkTimeoutError(this.options.endpoint, 'queue', this.options.requestTimeoutMs);
  }

  /** Frees the device for the next waiter, once every closed connection is fully closed. */
  private releaseLease(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    if (this.closing) void this.closing.then(() => lease.release());
    else lease.release();
  }
}
