/** Durable files: write-then-rename with fsync of the file and its directory (after a crash, the old file or the new one). */
import { readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { nodeFs, type AgentFs } from './agent-fs';
import { installError } from './errors';

/** fsync a directory so a rename or unlink inside it is on disk. */
export async function fsyncDir(dir: string, fs: AgentFs = nodeFs): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replace `path` with `data` atomically. `durable: false` leaves out the fsyncs: after a power loss
 * an empty file may be there, so only for hints whose loss costs no more than redone work.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, fs: AgentFs = nodeFs, { durable = true } = {}): Promise<void> {
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const handle = await fs.open(temp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    if (durable) await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(temp, path);
  } catch (err) {
    await fs.unlink(temp).catch(() => undefined);
    throw err;
  }
  if (durable) await fsyncDir(dirname(path), fs);
}

/** unlink that does not mind the file being gone already. */
export async function removeIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** A JSON file of the agent's (format 1): undefined when missing; unreadable or corrupt is an error, never a reset. */
export async function readStateFile<T extends { format: 1 }>(file: string, what: string, valid: (parsed: T) => boolean): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw installError(`cannot read ${file}: ${(err as Error).message}`, err, false);
  }
  try {
    const parsed = JSON.parse(text) as T;
    if (parsed.format !== 1 || !valid(parsed)) throw new Error('unknown format');
    return parsed;
  } catch (err) {
    throw installError(`${what} ${file} is corrupt (${(err as Error).message}); move it away to start afresh`, err, false);
  }
}

/** Replace a JSON file of the agent's atomically and durably. */
export async function writeStateFile(file: string, value: unknown, fs: AgentFs = nodeFs): Promise<void> {
  try {
    await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', fs);
  } catch (err) {
    throw installError(`cannot write ${file}: ${(err as Error).message}`, err);
  }
}
