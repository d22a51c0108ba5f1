/**
 * Write a file so that a reader never sees it half-written: a uniquely named temp file beside it,
 * then a rename. Synchronous, for the sandbox's small state files (certificates, shadows,
 * sandbox.json). The temp file is removed when the write fails. No fsync: sandbox state is
 * local and disposable; the device agent's durable writes are agent/fs-atomic.ts.
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
