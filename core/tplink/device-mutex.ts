/**
 * One client per device (`host:port`) at a time across the process's transports: real plugs misbehave
 * under competing connections. Re-entrant for its holder; a transport's connection kept open after
 * unlocking is closed ({@link DeviceUser.handOver}) before another transport gets the device.
 */

/** A transport, as the mutex sees it. */
export interface DeviceUser {
  /** Closes any connection it kept to the device; settles once it is gone. */
  handOver(): Promise<void>;
}

interface Waiter {
  user: DeviceUser;
  grant: () => void;
}

interface Slot {
  owner: DeviceUser | undefined;
  holds: number;
  waiters: Waiter[];
  /** The last user, whose connection may still be open. */
  last: DeviceUser | undefined;
  /** Settles once the last user's connection is closed. */
  ready: Promise<void>;
}

export class DeviceMutex {
  private readonly slots = new Map<string, Slot>();

  /** Resolves once `user` holds device `key`; `signal` aborting first leaves the queue, rejecting with its reason. */
  async lock(key: string, user: DeviceUser, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const s: Slot = this.slots.get(key) ?? { owner: undefined, holds: 0, waiters: [], last: undefined, ready: Promise.resolve() };
    this.slots.set(key, s);
    if (s.owner === undefined || s.owner === user) {
      this.take(s, user);
    } else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          s.waiters.splice(s.waiters.indexOf(waiter), 1);
          reject(signal.reason as Error);
        };
        const waiter: Waiter = {
          user,
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            this.take(s, user);
            resolve();
          },
        };
        signal.addEventListener('abort', onAbort, { once: true });
        s.waiters.push(waiter);
      });
    }
    await s.ready;
  }

  /** Gives up one hold (`all`: every hold) of `user` on `key`; the device goes to the next waiter (and every other wait of its transport). */
  unlock(key: string, user: DeviceUser, all = false): void {
    const slot = this.slots.get(key);
    if (slot?.owner !== user) return;
    slot.holds = all ? 0 : slot.holds - 1;
    if (slot.holds > 0) return;
    slot.owner = undefined;
    const next = slot.waiters[0]?.user;
    for (const waiter of slot.waiters.filter((w) => w.user === next)) {
      slot.waiters.splice(slot.waiters.indexOf(waiter), 1);
      waiter.grant();
    }
  }

  /** Forgets `user` (a closed transport) as the device's last user, once its connection is closed. */
  forget(key: string, user: DeviceUser): void {
    const slot = this.slots.get(key);
    if (slot?.last !== user || slot.owner !== undefined) return;
    slot.last = undefined;
    if (slot.waiters.length === 0) void slot.ready.then(() => slot.last === undefined && slot.owner === undefined && this.slots.delete(key));
  }

  /** Each `use` locks the device by its deadline (else `queueTimeout()`); `close` fails the waits and frees it. */
  holder(key: string, user: DeviceUser, queueTimeout: () => Error): DeviceHolder {
    const waits = new Set<AbortController>();
    return {
      use: async (deadline, fn) => {
        const wait = new AbortController();
        waits.add(wait);
        const timer = setTimeout(() => wait.abort(queueTimeout()), Math.max(1, deadline - Date.now()));
        try {
          await this.lock(key, user, wait.signal);
        } finally {
          clearTimeout(timer);
          waits.delete(wait);
        }
        try {
          return await fn();
        } finally {
          this.unlock(key, user);
        }
      },
      close: (reason, closed) => {
        for (const wait of waits) wait.abort(reason());
        this.unlock(key, user, true);
        void closed.then(() => this.forget(key, user));
      },
    };
  }

  /** How many callers wait for `key` (tests). */
  waiting(key: string): number {
    return this.slots.get(key)?.waiters.length ?? 0;
  }

  private take(slot: Slot, user: DeviceUser): void {
    if (slot.owner === undefined && slot.last !== undefined && slot.last !== user) slot.ready = slot.last.handOver();
    slot.owner = user;
    slot.last = user;
    slot.holds++;
  }
}

/** The process-wide mutex every shared transport uses unless given its own. */
export const deviceMutex = new DeviceMutex();

export interface DeviceHolder {
  use<T>(deadline: number, fn: () => Promise<T>): Promise<T>;
  close(reason: () => Error, closed: Promise<void>): void;
}
