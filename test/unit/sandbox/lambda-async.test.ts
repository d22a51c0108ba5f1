import { describe, expect, it } from 'vitest';
import { asyncInvoker } from '../../../sandbox/lambda-async';

/** Resolves when `count` calls have been recorded. */
function recorder<T>() {
  const seen: T[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  return {
    seen,
    push(v: T) {
      seen.push(v);
      for (const w of waiters.filter((w) => seen.length >= w.count)) w.resolve();
    },
    until(count: number) {
      return seen.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve }));
    },
  };
}

describe('asyncInvoker (Lambda asynchronous invocation)', () => {
  it('reports the outcome of a handler that returns, without retrying', async () => {
    const outcomes = recorder<string>();
    let calls = 0;
    const invoker = asyncInvoker(async (e: string) => `${e}:${++calls}`, { onOutcome: (o) => outcomes.push(o), onError: () => {}, retryDelaysMs: [1] });
    await invoker.invoke('a');
    expect(outcomes.seen).toEqual(['a:1']);
    invoker.stop();
  });

  it('runs a throwing handler again after each delay, then reports that no retry is left', async () => {
    const errors = recorder<number | undefined>();
    let calls = 0;
    const invoker = asyncInvoker(
      async () => {
        calls += 1;
        throw new Error('down');
      },
      { onOutcome: () => {}, onError: (_err, _e, retryInMs) => errors.push(retryInMs), retryDelaysMs: [1, 2] },
    );
    await invoker.invoke('a');
    await errors.until(3);
    expect(errors.seen).toEqual([1, 2, undefined]);
    expect(calls).toBe(3);
  });

  it('reports the outcome of a retry that succeeds', async () => {
    const outcomes = recorder<string>();
    let calls = 0;
    const invoker = asyncInvoker(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('once');
        return 'ok';
      },
      { onOutcome: (o) => outcomes.push(o), onError: () => {}, retryDelaysMs: [1] },
    );
    await invoker.invoke('a');
    await outcomes.until(1);
    expect(outcomes.seen).toEqual(['ok']);
  });

  it('cancels a pending retry when stopped, and reports no failure after that', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let fail!: (err: Error) => void;
    const invoker = asyncInvoker(
      () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('first')) : new Promise<never>((_, reject) => (fail = reject));
      },
      { onOutcome: () => {}, onError: (err) => errors.push(err), retryDelaysMs: [60_000] },
    );
    await invoker.invoke('a');
    expect(errors).toHaveLength(1);
    invoker.stop();
    // A second invocation under way when stopped fails silently.
    const second = invoker.invoke('b');
    fail(new Error('late'));
    await second;
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
  });
});
