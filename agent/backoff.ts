/** Exponential backoff with full jitter (AWS's recommendation): delay n is random in [base·2ⁿ/2, min(max, base·2ⁿ)]. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** [0,1); default Math.random. */
  random?: () => number;
}

/** The download retry (and the credentials warm-up, which waits like it): 2 s doubling to 5 min. */
export const DOWNLOAD_RETRY: BackoffOptions = { initialMs: 2000, maxMs: 300_000 };

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call doubles the ceiling up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const r = (this.options.random ?? Math.random)();
    return Math.round(ceiling / 2 + (ceiling / 2) * r);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Sleeps with backoff until `ready` says so (rejects when `signal` aborts). */
export async function retryUntil(backoff: Backoff, signal: AbortSignal, ready: () => Promise<boolean>): Promise<void> {
  do await sleep(backoff.next(), signal);
  while (!(await ready()));
}

export interface FlapOptions {
  /** A connection that lasted this long was healthy: the reconnect backoff starts over (ms). */
  stableMs: number;
  /** Epoch ms. */
  clock: () => number;
}

/**
 * Tells a connection that keeps being dropped soon after it was accepted (a flap) from one that
 * was healthy. Two clients with the same MQTT client id make the broker drop one whenever the
 * other connects; if each successful connect reset the backoff they would fight at full speed.
 */
export class FlapDetector {
  private connectedAt: number | undefined;
  private streak = 0;
  constructor(private readonly options: FlapOptions) {}

  connected(): void {
    this.connectedAt = this.options.clock();
  }

  /** The connection closed: how long it lasted (undefined if it never connected) and flaps in a row. */
  closed(): { lastedMs: number | undefined; stable: boolean; flaps: number } {
    const at = this.connectedAt;
    this.connectedAt = undefined;
    if (at === undefined) return { lastedMs: undefined, stable: false, flaps: this.streak };
    const lastedMs = this.options.clock() - at;
    if (lastedMs >= this.options.stableMs) {
      this.streak = 0;
      return { lastedMs, stable: true, flaps: 0 };
    }
    this.streak++;
    return { lastedMs, stable: false, flaps: this.streak };
  }
}
