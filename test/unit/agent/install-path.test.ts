import { describe, expect, it } from 'vitest';
import { installFileName, installPath } from '../../../agent/install-path';
import { AgentError } from '../../../agent/errors';

describe('installFileName', () => {
  it.each([
    ['app.bin', 'app.bin'],
    ['releases/2024/app.bin', 'app.bin'],
    ['things/dev-1/config file.json', 'config file.json'],
    ['..hidden-but-fine', '..hidden-but-fine'],
    ['a/...', '...'],
    ['ünïcödé/名前.txt', '名前.txt'],
  ])('installs %s as %s', (key, name) => {
    expect(installFileName(key)).toBe(name);
  });

  it.each([
    ['../../etc/passwd', "'..' segment"],
    ['a/../b', "'..' segment"],
    ['..', "'..' segment"],
    ['/etc/passwd', 'absolute path'],
    ['', 'empty'],
    ['dir/', 'no file name'],
    ['dir/.', 'no file name'],
    ['bad\nname', 'control characters'],
    ['bad\u0000name', 'control characters'],
    ['esc\u001b[31m', 'control characters'],
    ['win\\..\\x', 'backslash'],
    ['.shadowplug-app.bin.0123456789abcdef.part', 'reserved'],
    ['x'.repeat(256), 'longer than 255 bytes'],
  ])('refuses %j (%s) with UNSAFE_KEY', (key, reason) => {
    let caught: unknown;
    try {
      installFileName(key);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AgentError);
    expect(caught).toMatchObject({ code: 'UNSAFE_KEY', retryable: false });
    expect((caught as Error).message).toContain(reason);
  });
});

describe('installPath', () => {
  it('is always directly inside the destination directory', () => {
    expect(installPath('/srv/dest', 'a/b/c.txt')).toBe('/srv/dest/c.txt');
    expect(installPath('/srv/dest/', 'c.txt')).toBe('/srv/dest/c.txt');
  });
});
