/**
 * One connection per device at a time, across every Plug in the process. Real plugs misbehave
 * under competing connections, so a transport holds a device's lease while it has a connection
 * open or a request in flight. A waiter's arrival is signalled to the holder, which gives the
 * lease up as soon as it is idle (between operations, never in the middle of one).
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

  /** Resolves when the caller may talk to the device named by `key` (e.g. `host:port`). */
  acquire(key: string): Promise<DeviceLease> {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { held: false, waiters: [], lease: undefined };
      this.slots.set(key, slot);
    }
    const s = slot;
    if (!s.held) return Promise.resolve(this.grant(key, s));
    return new Promise<DeviceLease>((resolve) => {
      s.waiters.push({ grant: resolve });
      s.lease?.onContended?.();
    });
  }

  /** Whether anyone holds or waits for `key` (tests). */
  busy(key: string): boolean {
    return this.slots.has(key);
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
