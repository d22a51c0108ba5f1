/**
 * Waiting for the sandbox to reach a state: a check runs now and on every event (a real plug, which
 * narrates nothing, is polled) until it holds, or SANDBOX_TIMEOUT names what was awaited.
 */
import type { EventEmitter } from 'node:events';
import { sandboxTimeout } from './errors';
import type { SandboxPlug } from './sandbox-plug';
import type { ShadowObserver } from './shadow-observer';
import type { PlugRelayState } from './simulated-plug';

const REAL_PLUG_POLL_MS = 100;

export function waitForEvent<T>(
  events: EventEmitter,
  what: string,
  check: () => T | undefined,
  timeoutMs: number,
  poll?: () => Promise<T | undefined>,
): Promise<T> {
  return new Promise<T>((resolvePromise, reject) => {
    const done = (value: T) => {
      cleanup();
      resolvePromise(value);
    };
    const onEvent = () => {
      const v = check();
      if (v !== undefined) done(v);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(sandboxTimeout(what, timeoutMs));
    }, timeoutMs);
    const interval = poll
      ? setInterval(() => {
          void poll().then((v) => v !== undefined && done(v), () => {});
        }, REAL_PLUG_POLL_MS)
      : undefined;
    const cleanup = () => {
      clearTimeout(timer);
      if (interval) clearInterval(interval);
      events.off('event', onEvent);
    };
    events.on('event', onEvent);
    onEvent();
  });
}

/** Resolves with the plug's state once `predicate` holds for it. */
export function waitForPlug(events: EventEmitter, plug: SandboxPlug, predicate: (s: PlugRelayState) => boolean, timeoutMs: number): Promise<PlugRelayState> {
  const { stateNow } = plug;
  const what = `the state of plug ${plug.id}`;
  if (stateNow) {
    return waitForEvent(events, what, () => (predicate(stateNow()) ? stateNow() : undefined), timeoutMs);
  }
  return waitForEvent(events, what, () => undefined, timeoutMs, async () => {
    const s = await plug.state();
    return predicate(s) ? s : undefined;
  });
}

/** Resolves once `thing` has reported `hash` and desired equals it. */
export function waitForReported(events: EventEmitter, observer: ShadowObserver, thing: string, hash: string, timeoutMs: number): Promise<void> {
  const caughtUp = () => (observer.desiredHash(thing) === hash && observer.caughtUp(thing) ? true : undefined);
  return waitForEvent(events, `${thing} to report sha256 ${hash}`, caughtUp, timeoutMs).then(() => undefined);
}
