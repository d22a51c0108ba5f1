/**
 * Processes as a supervisor sees them (Linux /proc): a command started in its own process group,
 * its whole tree of descendants, and whether they are gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** pid → [parent pid, state letter] for every process now. */
function table(): Map<number, [number, string]> {
  const rows = new Map<number, [number, string]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      rows.set(Number(name), [Number(ppid), state!]);
    } catch {
      // it ended while we looked
    }
  }
  return rows;
}

/** `pid` and all its living descendants. */
export function processTree(pid: number): number[] {
  const rows = table();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, [ppid, state]] of rows) if (ppid === tree[i] && state !== 'Z') tree.push(child);
  }
  return tree;
}

/** True when the process no longer runs (absent, or a zombie nobody has reaped yet). */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

export interface Started {
  child: ChildProcess;
  output: () => string;
  /** The process ended and its output (its descendants' too) is all read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command` in a process group of its own, collecting stdout and stderr together. */
export function startGroup(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Started {
  const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (text += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (text += c));
  // 'close': the process has exited and every process holding its pipes has closed them, so all output is in.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  return { child, output: () => text, exited };
}
