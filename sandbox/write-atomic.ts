/**
 * Writes a file so that a reader never sees it half-written (temp file, then rename). No fsync:
 * sandbox state is disposable; the agent's durable writes are agent/fs-atomic.ts.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomicSync(path: string, data: string, mode?: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
