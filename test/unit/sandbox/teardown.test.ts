import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../core/logger';
import { silentLogger } from '../../../core/logger';
import { Teardown } from '../../../sandbox/teardown';

describe('Teardown', () => {
  it('runs the closing hooks first, then closes parts in reverse order of start', async () => {
    const order: string[] = [];
    const teardown = new Teardown(silentLogger);
    teardown.add('server', async () => void order.push('server'));
    teardown.add('client', async () => void order.push('client'));
    teardown.onClosing(() => order.push(`stop (closing=${teardown.closing})`));
    expect(teardown.closing).toBe(false);
    await teardown.close();
    expect(order).toEqual(['stop (closing=true)', 'client', 'server']);
  });

  it('logs a part that fails to close, names it, and still closes the rest', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (msg: string) => void warnings.push(msg) } as Logger;
    const closed: string[] = [];
    const teardown = new Teardown(logger);
    teardown.add('first', async () => void closed.push('first'));
    teardown.add('stuck', async () => {
      throw new Error('EBUSY');
    });
    await teardown.close();
    expect(closed).toEqual(['first']);
    expect(warnings).toEqual(['sandbox: closing stuck failed']);
  });

  it('closes each part once, however often close is called', async () => {
    let closes = 0;
    const teardown = new Teardown(silentLogger);
    teardown.add('part', async () => void (closes += 1));
    await Promise.all([teardown.close(), teardown.close()]);
    await teardown.close();
    expect(closes).toBe(1);
  });
});
