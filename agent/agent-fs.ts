/**
 * The file-system calls the agent makes, replaceable: tests hand in a layer that fails with EROFS
 * or ENOSPC at a chosen path or byte (mounting a read-only or full file system needs root).
 */
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export type AgentFs = Pick<typeof fsp, 'open' | 'rename' | 'stat' | 'statfs' | 'unlink'>;

export const nodeFs: AgentFs = fsp;

/** Bytes an unprivileged process may still write in the file system holding `dir`. */
export async function freeBytes(fs: AgentFs, dir: string): Promise<number> {
  const st = await fs.statfs(dir);
  return Number(st.bavail) * Number(st.bsize);
}

/** Errors that say the file system is full (a quota counts as full). */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * Can a file be created (and removed) in `dir`? Undefined when it can, else the error. A real
 * write, not access(2): root passes access(W_OK) on a directory it may not write in practice.
 */
export async function probeWritable(fs: AgentFs, dir: string): Promise<Error | undefined> {
  // Unique: agents in one process (the sandbox) may share a directory.
  const probe = join(dir, `.shadowplug-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await fs.open(probe, 'w');
    await handle.close();
    await fs.unlink(probe);
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
