/**
 * One connection per device at a time, across every Plug in the process. Real plugs misbehave
 * under competing connections, so a transport holds a device's lease while it has a connection
 * open or a request in flight. A waiter's arrival is signalled to the holder, which gives the
 * lease up as soon as it is idle (between operations, never in the middle of one).
 *
 * A waiter can give up (its `AbortSignal` fires, e.g. at the caller's timeout): it leaves the queue
 * at once, is never granted the device later, and the others keep their order.
 */

export interface DeviceLease {
  /** Whether someone else is waiting for this device. */
  readonly contended: boolean;
  /** Called (once per new waiter) when someone starts waiting. */
  onContended: (() => void) | undefined;
  /** Gives the device to the next waiter. Idempotent. */
  release(): void;
}

interface Waiter {
  grant: (lease: DeviceLease) => void;
}

interface Slot {
  held: boolean;
  waiters: Waiter[];
  lease: LeaseImpl | undefined;
}

class LeaseImpl implements DeviceLease {
  onContended: (() => void) | undefined = undefined;
  private released = false;

  constructor(
    private readonly slot: Slot,
    private readonly onRelease: () => void,
  ) {}

  get contended(): boolean {
    return !this.released && this.slot.waiters.length > 0;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onContended = undefined;
    this.onRelease();
  }
}

export class DeviceLocks {
  private readonly slots = new Map<string, Slot>();

  /**
   * Resolves when the caller may talk to the device named by `key` (e.g. `host:port`). When
   * `signal` aborts first, the caller leaves the queue and the promise rejects with `signal.reason`.
   */
  acquire(key: string, signal?: AbortSignal): Promise<DeviceLease> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { held: false, waiters: [], lease: undefined };
      this.slots.set(key, slot);
    }
    const s = slot;
    if (!s.held) return Promise.resolve(this.grant(key, s));
    return new Promise<DeviceLease>((resolve, reject) => {
      const onAbort = () => {
        const i = s.waiters.indexOf(waiter);
        if (i >= 0) s.waiters.splice(i, 1);
        reject(signal!.reason as Error);
      };
      const waiter: Waiter = {
        grant: (lease) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(lease);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.waiters.push(waiter);
      s.lease?.onContended?.();
    });
  }

  /** The lease at once when nobody holds `key` (then nobody waits either), else undefined. */
  tryAcquire(key: string): DeviceLease | undefined {
    if (this.slots.get(key)?.held === true) return undefined;
    const slot: Slot = this.slots.get(key) ?? { held: false, waiters: [], lease: undefined };
    this.slots.set(key, slot);
    return this.grant(key, slot);
  }

  /** Whether anyone holds or waits for `key` (tests). */
  busy(key: string): boolean {
    return this.slots.has(key);
  }

  /** How many callers wait for `key` (tests). */
  waiting(key: string): number {
    return this.slots.get(key)?.waiters.length ?? 0;
  }

  private grant(key: string, slot: Slot): DeviceLease {
    slot.held = true;
    const lease = new LeaseImpl(slot, () => {
      const next = slot.waiters.shift();
      if (next) {
        next.grant(this.grant(key, slot));
      } else {
        slot.held = false;
        slot.lease = undefined;
        this.slots.delete(key);
      }
    });
    slot.lease = lease;
    return lease;
  }
}

/** The process-wide registry every transport uses unless given its own. */
export const deviceLocks = new DeviceLocks();
