import { describe, expect, it } from 'vitest';
import type { PlugDriver } from '../../../core/button/execute';
import { lazyDriver } from '../../../core/button/execute';
import type { PlugTarget } from '../../../core/button/targets';

const lamp: PlugTarget = { host: '127.0.0.1', port: 9999 };

/** A driver that records what it is told. */
function recording(withAlreadyHandled: boolean): PlugDriver & { told: string[] } {
  const told: string[] = [];
  const d: PlugDriver & { told: string[] } = {
    told,
    read: async () => (told.push('read'), { on: false }),
    write: async (_t, on) => (told.push(`write ${on}`), { on }),
    close: async () => void told.push('close'),
    begin: (click) => void told.push(`begin ${click.requestId}`),
  };
  if (withAlreadyHandled) d.alreadyHandled = async () => (told.push('alreadyHandled'), true);
  return d;
}

describe('a lazily loaded plug driver', () => {
  it('loads its driver once, at the first use, and tells it the click that began before it was there', async () => {
    const inner = recording(true);
    let loads = 0;
    const driver = lazyDriver(async () => (loads++, inner));
    driver.begin!({ requestId: 'r1' });
    expect(loads).toBe(0);
    expect(await driver.alreadyHandled!([lamp])).toBe(true);
    expect(await driver.read(lamp)).toEqual({ on: false });
    expect(await driver.write(lamp, true)).toEqual({ on: true });
    driver.begin!({ requestId: 'r2' });
    await driver.close!();
    expect(loads).toBe(1);
    expect(inner.told).toEqual(['begin r1', 'alreadyHandled', 'read', 'write true', 'begin r2', 'close']);
  });

  it('answers "not handled elsewhere" for a driver that cannot tell (direct mode)', async () => {
    const driver = lazyDriver(async () => recording(false));
    expect(await driver.alreadyHandled!([lamp])).toBe(false);
  });

  it('loads nothing to close when no click used it', async () => {
    let loads = 0;
    await lazyDriver(async () => (loads++, recording(false))).close!();
    expect(loads).toBe(0);
  });

  it('tries a failed load again at the next use instead of remembering the failure', async () => {
    let loads = 0;
    const driver = lazyDriver(async () => {
      if (++loads === 1) throw new Error('Cannot find module ./button-direct.mjs');
      return recording(false);
    });
    await expect(driver.read(lamp)).rejects.toThrow('button-direct.mjs');
    expect(await driver.read(lamp)).toEqual({ on: false });
    expect(loads).toBe(2);
  });
});
