/**
 * The partial file of an interrupted download and its sidecar (bucket, key, version, wanted hash,
 * ETag, size), in the destination directory (so the final rename is atomic). Named by 16 hex digits
 * of the file name's SHA-256, not the name itself: that may already be at the file system's limit.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { removeIfExists, writeFileAtomic } from './fs-atomic';
import { WORK_FILE_PREFIX } from './install-path';

export interface PartialMeta extends PartialTarget {
  etag?: string;
  size?: number;
}

/** The bytes received so far, and the sidecar saying which object they belong to. */
export interface PartialFiles {
  part: string;
  meta: string;
}

/** What a download is for: a partial is resumed only for exactly the same target. */
export interface PartialTarget {
  bucket: string;
  key: string;
  versionId?: string;
  hash: string;
}

function nameTag(finalPath: string): string {
  return `${WORK_FILE_PREFIX}${createHash('sha256').update(basename(finalPath)).digest('hex').slice(0, 16)}.`;
}

/** The partial file and its sidecar for a given final path and wanted hash. */
export function partialPaths(finalPath: string, hash: string): PartialFiles {
  const part = join(dirname(finalPath), `${nameTag(finalPath)}${hash.slice(0, 16)}.part`);
  return { part, meta: `${part}.json` };
}

/** Remove an interrupted download's files (it will not be resumed: a newer value is wanted). */
export async function discardPartial(finalPath: string, hash: string): Promise<void> {
  const { part, meta } = partialPaths(finalPath, hash);
  await removeIfExists(part);
  await removeIfExists(meta);
}

/** Remove partial downloads of the same file name for other hashes (left by a stale desired value). */
export async function discardOtherPartials(finalPath: string, keepHash: string): Promise<void> {
  const dir = dirname(finalPath);
  const prefix = nameTag(finalPath);
  const keep = basename(partialPaths(finalPath, keepHash).part);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || name === keep || name === `${keep}.json`) continue;
    if (/^[0-9a-f]{16}\.part(\.json)?$/.test(name.slice(prefix.length))) await removeIfExists(join(dir, name));
  }
}

/** The sidecar, when it exists and is readable. */
export async function readPartialMeta(path: string): Promise<PartialMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartialMeta;
  } catch {
    return undefined;
  }
}

/**
 * Not fsynced (with 1,000 agents in one sandbox the fsyncs queued on the shared thread pool): a lost
 * or damaged sidecar only means starting over, and resumed bytes are re-hashed and the whole file
 * checked against the desired SHA-256 before anything is installed.
 */
export async function writePartialMeta(path: string, meta: PartialMeta): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(meta), undefined, { durable: false });
}

export function sameTarget(meta: PartialMeta | undefined, target: PartialTarget): meta is PartialMeta {
  return !!meta && meta.bucket === target.bucket && meta.key === target.key && meta.hash === target.hash && (meta.versionId ?? '') === (target.versionId ?? '');
}

/** Feed a partial file being resumed into `hash` (node's Hash cannot be saved, so a resume re-hashes); resolves with its size. */
export async function hashFile(hash: Hash, path: string, signal?: AbortSignal): Promise<number> {
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return bytes;
}
