import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { startedByNpm, watchParent } from '../../../bin/parent-watch';
import { addVersionEverywhere } from '../../../bin/commands/common';

describe('watchParent', () => {
  it('calls onGone once, with both pids, when the parent changes', () => {
    // The watch polls on a timer: fake timers make each poll happen when the test says.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      let ppid = 100;
      const gone: [number, number][] = [];
      const stop = watchParent({ ppid: () => ppid, onGone: (was, now) => gone.push([was, now]), intervalMs: 5 });
      vi.advanceTimersByTime(30); // six polls, same parent
      expect(gone).toEqual([]);
      ppid = 1;
      vi.advanceTimersByTime(5); // the next poll sees the change
      expect(gone).toEqual([[100, 1]]);
      vi.advanceTimersByTime(50); // and later polls do not report it again
      expect(gone).toEqual([[100, 1]]);
      stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('is on only when npm started the process', () => {
    expect(startedByNpm({ npm_command: 'exec' })).toBe(true);
    expect(startedByNpm({ npm_lifecycle_event: 'test' })).toBe(true);
    expect(startedByNpm({ HOME: '/root' })).toBe(false);
  });
});

describe('addVersionEverywhere', () => {
  it('gives every command and subcommand --version', () => {
    const out: string[] = [];
    const program = new Command('p').exitOverride().configureOutput({ writeOut: (s) => out.push(s) });
    const sub = program.command('sub').exitOverride().configureOutput({ writeOut: (s) => out.push(s) });
    sub.command('leaf').exitOverride().configureOutput({ writeOut: (s) => out.push(s) }).action(() => undefined);
    addVersionEverywhere(program, '9.8.7');
    for (const argv of [['--version'], ['sub', '--version'], ['sub', 'leaf', '-V']]) {
      expect(() => program.parse(argv, { from: 'user' })).toThrow('9.8.7');
    }
    expect(out).toEqual(['9.8.7\n', '9.8.7\n', '9.8.7\n']);
  });
});
