import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../core/logger';
import { ShadowplugError } from '../../../core/errors';

describe('createLogger', () => {
  it('writes one JSON object per line with the fields and the error cause', () => {
    const lines: string[] = [];
    const log = createLogger({ json: true, write: (l) => lines.push(l), clock: () => 0 }).child({ thing: 't1' });
    const err = new ShadowplugError('outer', { code: 'X', retryable: true, cause: new Error('inner') });
    log.warn('failed', { err });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'warn',
      time: '1970-01-01T00:00:00.000Z',
      message: 'failed',
      thing: 't1',
      err: { name: 'ShadowplugError', message: 'outer', code: 'X', retryable: true, cause: { name: 'Error', message: 'inner' } },
    });
  });

  it('drops lines below its level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    log.info('quiet');
    log.error('loud', { n: 1 });
    expect(lines).toEqual(['error loud n=1']);
  });

  it('keeps a readable line one line when the message or a field holds line breaks', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.warn('first\n  second', { detail: 'a\nb', plain: 'c d' });
    expect(lines).toEqual(['warn  first second detail="a\\nb" plain=c d']);
  });
});
