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
