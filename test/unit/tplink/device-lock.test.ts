import { describe, expect, it } from 'vitest';
import { DeviceLocks } from '../../../core/tplink/device-lock';

describe('DeviceLocks', () => {
  it('grants a free device at once', async () => {
    const locks = new DeviceLocks();
    const lease = await locks.acquire('a:1');
    expect(lease.contended).toBe(false);
    lease.release();
    expect(locks.busy('a:1')).toBe(false);
  });

  it('makes a second holder wait until the first releases, in arrival order', async () => {
    const locks = new DeviceLocks();
    const first = await locks.acquire('a:1');
    const order: string[] = [];
    const second = locks.acquire('a:1').then((l) => (order.push('second'), l));
    const third = locks.acquire('a:1').then((l) => (order.push('third'), l));
    await Promise.resolve();
    expect(order).toEqual([]);
    first.release();
    (await second).release();
    (await third).release();
    expect(order).toEqual(['second', 'third']);
    expect(locks.busy('a:1')).toBe(false);
  });

  it('tells the holder when someone starts waiting', async () => {
    const locks = new DeviceLocks();
    const lease = await locks.acquire('a:1');
    let told = 0;
    lease.onContended = () => told++;
    const waiting = locks.acquire('a:1');
    expect(told).toBe(1);
    expect(lease.contended).toBe(true);
    lease.release();
    (await waiting).release();
  });

  it('keeps devices independent', async () => {
    const locks = new DeviceLocks();
    const a = await locks.acquire('a:1');
    const b = await locks.acquire('a:2');
    a.release();
    b.release();
  });

  it('ignores a second release', async () => {
    const locks = new DeviceLocks();
    const first = await locks.acquire('a:1');
    const second = locks.acquire('a:1');
    first.release();
    const granted = await second;
    first.release(); // must not free the device under the second holder
    expect(locks.busy('a:1')).toBe(true);
    granted.release();
  });
});

describe('DeviceLocks: a waiter that gives up', () => {
  it('leaves the queue at once, rejects with the reason, and the device is freed when the holder releases', async () => {
    const locks = new DeviceLocks();
    const holder = await locks.acquire('a:1');
    const abort = new AbortController();
    const waiting = locks.acquire('a:1', abort.signal);
    expect(locks.waiting('a:1')).toBe(1);
    const reason = new Error('gave up');
    abort.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(locks.waiting('a:1')).toBe(0);
    expect(holder.contended).toBe(false);
    holder.release();
    expect(locks.busy('a:1')).toBe(false); // nobody was granted the device after giving up
  });

  it('keeps the order of the others, and never grants the device to the one that left', async () => {
    const locks = new DeviceLocks();
    const first = await locks.acquire('a:1');
    const order: string[] = [];
    const abort = new AbortController();
    const second = locks.acquire('a:1').then((l) => (order.push('second'), l));
    const quitter = locks.acquire('a:1', abort.signal).then(
      (l) => (order.push('quitter'), l),
      () => undefined,
    );
    const fourth = locks.acquire('a:1').then((l) => (order.push('fourth'), l));
    abort.abort(new Error('timeout'));
    await quitter;
    first.release();
    (await second).release();
    (await fourth).release();
    expect(order).toEqual(['second', 'fourth']);
    expect(locks.busy('a:1')).toBe(false);
  });

  it('rejects at once with an already aborted signal, and ignores an abort after the grant', async () => {
    const locks = new DeviceLocks();
    const holder = await locks.acquire('a:1');
    const gone = new AbortController();
    gone.abort(new Error('already'));
    await expect(locks.acquire('a:1', gone.signal)).rejects.toThrow('already');
    expect(locks.waiting('a:1')).toBe(0);
    const late = new AbortController();
    const granted = locks.acquire('a:1', late.signal);
    holder.release();
    const lease = await granted;
    late.abort(new Error('too late'));
    expect(locks.busy('a:1')).toBe(true);
    lease.release();
    expect(locks.busy('a:1')).toBe(false);
  });
});
