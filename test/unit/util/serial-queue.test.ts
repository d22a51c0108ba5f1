import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../../core/util/serial-queue.js';
import { formatHostPort } from '../../../core/util/host-port.js';
import { isObject } from '../../../core/util/guards.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time, in the order they were queued', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = queue.run(async () => {
      log.push('first start');
      await gate;
      log.push('first end');
      return 1;
    });
    const second = queue.run(() => {
      log.push('second');
      return 2;
    });
    await Promise.resolve();
    expect(log).toEqual(['first start']);
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(['first start', 'first end', 'second']);
  });

  it('goes on after a task rejects, and passes the rejection to its caller', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(() => Promise.reject(new Error('boom')));
    const next = queue.run(() => 'ok');
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe('ok');
    await queue.idle();
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 hosts only', () => {
    expect(formatHostPort('192.168.1.20', 9999)).toBe('192.168.1.20:9999');
    expect(formatHostPort('fd00::5', 80)).toBe('[fd00::5]:80');
    expect(formatHostPort('plug.lan', '9999')).toBe('plug.lan:9999');
  });
});

describe('isObject', () => {
  it('accepts objects only, not null or arrays', () => {
    expect(isObject({})).toBe(true);
    expect(isObject(null)).toBe(false);
    expect(isObject([])).toBe(false);
    expect(isObject('x')).toBe(false);
  });
});
