import { describe, expect, it } from 'vitest';
import { DeviceMutex, type DeviceUser } from '../../../core/tplink/device-mutex';

/** A user that records its hand-overs; `closing` delays the hand-over until resolved. */
function user(name: string, log: string[], closing?: Promise<void>): DeviceUser {
  return {
    async handOver() {
      log.push(`${name} hands over`);
      await closing;
      log.push(`${name} closed`);
    },
  };
}

const never = () => new AbortController().signal;

describe('DeviceMutex', () => {
  it('grants a free device at once, and again to its holder (re-entrant)', async () => {
    const mutex = new DeviceMutex();
    const a = user('a', []);
    await mutex.lock('d:1', a, never());
    await mutex.lock('d:1', a, never());
    mutex.unlock('d:1', a);
    const b = user('b', []);
    let granted = false;
    const second = mutex.lock('d:1', b, never()).then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false); // a still holds once
    mutex.unlock('d:1', a);
    await second;
    expect(granted).toBe(true);
  });

  it('makes other users wait in arrival order, one at a time', async () => {
    const mutex = new DeviceMutex();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => user(n, []));
    await mutex.lock('d:1', a!, never());
    const order: string[] = [];
    const second = mutex.lock('d:1', b!, never()).then(() => order.push('b'));
    const third = mutex.lock('d:1', c!, never()).then(() => order.push('c'));
    expect(mutex.waiting('d:1')).toBe(2);
    mutex.unlock('d:1', a!);
    await second;
    expect(order).toEqual(['b']);
    mutex.unlock('d:1', b!);
    await third;
    expect(order).toEqual(['b', 'c']);
  });

  it("has the last user close its connection before the next one is granted", async () => {
    const mutex = new DeviceMutex();
    const log: string[] = [];
    let closed!: () => void;
    const a = user('a', log, new Promise<void>((resolve) => (closed = resolve)));
    await mutex.lock('d:1', a, never());
    mutex.unlock('d:1', a);
    const granted = mutex.lock('d:1', user('b', log), never()).then(() => log.push('b granted'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a hands over']);
    closed();
    await granted;
    expect(log).toEqual(['a hands over', 'a closed', 'b granted']);
  });

  it('lets a waiter give up: it leaves the queue and the others keep their order', async () => {
    const mutex = new DeviceMutex();
    const [a, quitter, b] = ['a', 'q', 'b'].map((n) => user(n, []));
    await mutex.lock('d:1', a!, never());
    const abort = new AbortController();
    const quitting = mutex.lock('d:1', quitter!, abort.signal).catch((e: unknown) => e);
    const waiting = mutex.lock('d:1', b!, never());
    abort.abort(new Error('gave up'));
    expect(await quitting).toMatchObject({ message: 'gave up' });
    expect(mutex.waiting('d:1')).toBe(1);
    mutex.unlock('d:1', a!);
    await waiting;
    expect(mutex.waiting('d:1')).toBe(0);
  });

  it('keeps devices independent', async () => {
    const mutex = new DeviceMutex();
    const [a, b] = ['a', 'b'].map((n) => user(n, []));
    await mutex.lock('d:1', a!, never());
    await mutex.lock('d:2', b!, never());
    expect(mutex.waiting('d:1') + mutex.waiting('d:2')).toBe(0);
  });
});
