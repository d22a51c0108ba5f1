import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { startedByNpm, watchParent } from '../../../bin/parent-watch';
import { addVersionEverywhere } from '../../../bin/version-option';

describe('watchParent', () => {
  it('calls onGone once, with both pids, when the parent changes', async () => {
    let ppid = 100;
    const gone: [number, number][] = [];
    const stop = watchParent({ ppid: () => ppid, onGone: (was, now) => gone.push([was, now]), intervalMs: 5 });
    await new Promise((r) => setTimeout(r, 30));
    expect(gone).toEqual([]);
    ppid = 1;
    const deadline = Date.now() + 2000;
    while (gone.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 30));
    expect(gone).toEqual([[100, 1]]);
    stop();
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
