/** Lambda's asynchronous invocation: a throwing handler runs again twice (after about 1 and 2 minutes; here 1 s and 2 s). */
export const ASYNC_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000];

export interface AsyncInvocationHooks<E, O> {
  /** The handler returned. */
  onOutcome(outcome: O, event: E): void;
  /** The handler threw; `retryInMs` is undefined when no retry is left. Not called once stopped. */
  onError(err: unknown, event: E, retryInMs: number | undefined): void;
  /** Default ASYNC_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
}

export interface AsyncInvoker<E> {
  /** Resolves when the first attempt is over; retries run later, on timers. */
  invoke(event: E): Promise<void>;
  /** Cancels pending retries; a failure seen after this is not reported. */
  stop(): void;
}

export function asyncInvoker<E, O>(handler: (event: E) => Promise<O>, hooks: AsyncInvocationHooks<E, O>): AsyncInvoker<E> {
  const delays = hooks.retryDelaysMs ?? ASYNC_RETRY_DELAYS_MS;
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const attempt = async (event: E, n: number): Promise<void> => {
    let outcome: O;
    try {
      outcome = await handler(event);
    } catch (err) {
      if (stopped) return;
      const delay = delays[n];
      hooks.onError(err, event, delay);
      if (delay === undefined) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt(event, n + 1);
      }, delay);
      timers.add(timer);
      return;
    }
    hooks.onOutcome(outcome, event);
  };
  return {
    invoke: (event) => attempt(event, 0),
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
