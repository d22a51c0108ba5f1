import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../../core/fleet/token-bucket';

/** A clock that moves only when the bucket sleeps: the bucket's waits are the whole timeline. */
function virtualTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => void (now += ms),
    sleeps,
    now: () => now,
  };
}

describe('TokenBucket', () => {
  it('hands out the burst at once, then one token per 1/rate seconds', async () => {
    const t = virtualTime();
    const bucket = new TokenBucket({ ratePerSecond: 100, burst: 10, clock: t.clock, sleep: t.sleep });
    for (let i = 0; i < 10; i++) await bucket.take();
    expect(t.now()).toBe(0);
    for (let i = 0; i < 100; i++) await bucket.take();
    // 100 more tokens at 100/s: one second of virtual time.
    expect(t.now()).toBeCloseTo(1000, 0);
  });

  it('tryTake refuses when empty and recovers with time', () => {
    const t = virtualTime();
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 2, clock: t.clock, sleep: t.sleep });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([true, true, false]);
    t.advance(500);
    expect(bucket.tryTake()).toBe(true);
    expect(bucket.tryTake()).toBe(false);
  });

  it('pause holds every taker back for that long', async () => {
    const t = virtualTime();
    const bucket = new TokenBucket({ ratePerSecond: 1000, clock: t.clock, sleep: t.sleep });
    bucket.pause(250);
    expect(bucket.tryTake()).toBe(false);
    await bucket.take();
    expect(t.now()).toBeGreaterThanOrEqual(250);
  });

  it('serves waiters in arrival order', async () => {
    const t = virtualTime();
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 1, clock: t.clock, sleep: t.sleep });
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => bucket.take().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(t.now()).toBeCloseTo(300, 0);
  });

  it('refuses a rate that is not a positive number', () => {
    const t = virtualTime();
    expect(() => new TokenBucket({ ratePerSecond: 0, clock: t.clock, sleep: t.sleep })).toThrow(/ratePerSecond/);
  });
});
