/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. The fan-out worker
 * waits on it before each shadow write (`take`); the sandbox's data plane answers 429 when it is
 * empty (`tryTake`), as AWS does above its quota. Pure.
 */
export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens that may be spent at once after a quiet spell (default: one second's worth, at least 1). */
  burst?: number;
  /** Milliseconds, monotonic enough for intervals (performance.now or Date.now). */
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
}

export class TokenBucket {
  readonly ratePerSecond: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  /** Waiters are served in order, so a write never starves behind later ones. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    this.ratePerSecond = options.ratePerSecond;
    this.burst = Math.max(1, options.burst ?? options.ratePerSecond);
    this.tokens = this.burst;
    this.last = options.clock();
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
  }

  /** Takes a token if one is there now. */
  tryTake(): boolean {
    const now = this.options.clock();
    this.refill(now);
    if (now < this.pausedUntil || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Resolves once a token is taken (waiting as long as needed, in arrival order). */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** No tokens for `ms` from now (a throttle seen by one writer holds back all of them). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.options.clock() + ms);
    this.tokens = Math.min(this.tokens, 0);
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const now = this.options.clock();
      this.refill(now);
      const pausedFor = this.pausedUntil - now;
      if (pausedFor <= 0 && this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const refillFor = ((1 - this.tokens) / this.ratePerSecond) * 1000;
      await this.options.sleep(Math.max(pausedFor, refillFor, 0.1));
    }
  }
}
