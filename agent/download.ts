/**
 * Download one object so that only a verified file ever appears at its final path: resume what an
 * earlier attempt left (re-hashed from disk), fetch the rest (a Range request pinned to the saved
 * ETag, hashed and size-checked as bytes arrive), verify and install (fsync, compare, rename,
 * fsync the directory). An interrupted download keeps its partial file (partial-store.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { receive } from './batched-writer';
import { freeBytes, isDiskFull, nodeFs, type AgentFs } from './agent-fs';
import { AgentError, CancelledError, DiskFullError, DownloadError, HashMismatchError, installError, ObjectTooLargeError } from './errors';
import { fsyncDir, removeIfExists } from './fs-atomic';
import { discardOtherPartials, discardPartial, hashFile, partialPaths, readPartialMeta, sameTarget, writePartialMeta, type PartialFiles, type PartialMeta } from './partial-store';
import type { GetObjectResult, ObjectSource } from './s3-source';

export interface DownloadRequest {
  bucket: string;
  key: string;
  versionId?: string;
  /** Lower-case hex SHA-256 the bytes must have. */
  hash: string;
  /** Size announced by the desired value, when known: checked before and after. */
  size?: number;
  /** Refuse objects larger than this many bytes. */
  maxSize: number;
  /** Where the verified file goes (its directory must exist). */
  finalPath: string;
  signal?: AbortSignal;
  /** Bytes in the partial file so far, and the total when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Give up on a connection that delivers nothing for this long (default 60 s); the partial is kept. */
  idleTimeoutMs?: number;
  fs?: AgentFs;
}

export interface DownloadResult {
  path: string;
  size: number;
  hash: string;
  /** Bytes already on disk from an earlier attempt (0 for a fresh download). */
  resumedFrom: number;
  /** Bytes fetched from S3 by this call. */
  fetched: number;
}

/** Where a download stands: `hash` covers exactly the partial file's first `offset` bytes. */
interface Progress {
  hash: Hash;
  offset: number;
  meta: PartialMeta;
  total: number | undefined;
  resumedFrom: number;
  fetched: number;
  /** Free space was checked for this many more bytes (the answer's size needs no second statfs). */
  spaceFor?: number;
}

interface Context {
  req: DownloadRequest;
  files: PartialFiles;
  /** `s3://bucket/key`, for messages. */
  where: string;
  fs: AgentFs;
  /** Removes the partial file and its sidecar (the next attempt starts over), then gives `err` back to throw. */
  discard: <E>(err: E) => Promise<E>;
}

function cancelled(signal: AbortSignal | undefined): CancelledError {
  const reason: unknown = signal?.reason;
  return reason instanceof CancelledError ? reason : new CancelledError('download aborted');
}

/** A local file-system failure: a name the file system refuses is permanent, anything else may pass. */
function installFailure(what: string, path: string, err: unknown): AgentError {
  // ENAMETOOLONG: the destination file system allows shorter names (143 bytes on eCryptfs); never retried.
  if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') {
    const message = `cannot install ${path}: the destination file system does not accept a file name this long (rename the object's key)`;
    return new AgentError(message, { code: 'FILE_NAME_TOO_LONG', retryable: false, cause: err });
  }
  return installError(`${what} ${path}: ${(err as Error).message}`, err);
}

/** Download, verify and install. Throws a typed AgentError; on failure nothing is at `finalPath` that was not there before. */
export async function downloadObject(source: ObjectSource, req: DownloadRequest): Promise<DownloadResult> {
  const discard = async <E>(err: E): Promise<E> => {
    await discardPartial(req.finalPath, req.hash);
    return err;
  };
  const ctx: Context = { req, files: partialPaths(req.finalPath, req.hash), where: `s3://${req.bucket}/${req.key}`, fs: req.fs ?? nodeFs, discard };
  if (req.size !== undefined && req.size > req.maxSize) throw new ObjectTooLargeError(ctx.where, req.size, req.maxSize, 'declared');
  try {
    await discardOtherPartials(req.finalPath, req.hash);
    const progress = await resumePartial(ctx);
    if (progress.total !== undefined) await ensureSpace(ctx, (progress.spaceFor = progress.total - progress.offset));
    // A partial that already holds every byte needs no request.
    const complete = progress.offset > 0 && progress.total !== undefined && progress.offset === progress.total;
    if (!complete) await fetchRest(source, ctx, progress);
    return await verifyAndInstall(ctx, progress);
  } catch (err) {
    if (req.signal?.aborted && !(err instanceof CancelledError)) throw cancelled(req.signal);
    throw err;
  }
}

/** Step 1: what an earlier attempt for exactly this object left on disk, re-hashed. */
async function resumePartial(ctx: Context): Promise<Progress> {
  const { req, files } = ctx;
  const meta = await readPartialMeta(files.meta);
  if (sameTarget(meta, req)) {
    const hash = createHash('sha256');
    const offset = await rehashPartial(ctx, files.part, meta, hash);
    if (offset > 0) return { hash, offset, meta, total: meta.size ?? req.size, resumedFrom: offset, fetched: 0 };
  }
  await removeIfExists(files.part);
  const fresh: PartialMeta = { bucket: req.bucket, key: req.key, hash: req.hash, ...(req.versionId ? { versionId: req.versionId } : {}) };
  return { hash: createHash('sha256'), offset: 0, meta: fresh, total: req.size, resumedFrom: 0, fetched: 0 };
}

/** The partial file's size once hashed, or 0 when there is nothing usable. */
async function rehashPartial({ req, fs }: Context, part: string, meta: PartialMeta, hash: Hash): Promise<number> {
  try {
    const st = await fs.stat(part);
    if (st.size === 0 || st.size > req.maxSize || (meta.size !== undefined && st.size > meta.size)) return 0;
    return await hashFile(hash, part, req.signal);
  } catch (err) {
    if (req.signal?.aborted) throw cancelled(req.signal);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw installError(`cannot read partial file ${part}: ${(err as Error).message}`, err);
  }
}

/** Step 2: request the bytes from `offset` on and write them to the partial file. */
async function fetchRest(source: ObjectSource, ctx: Context, p: Progress): Promise<void> {
  const res = await request(source, ctx, p);
  try {
    await acceptResponse(ctx, p, res);
    await receiveBody(ctx, p, res.body);
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}

async function request(source: ObjectSource, { req, where, discard }: Context, p: Progress): Promise<GetObjectResult> {
  const resuming = p.offset > 0;
  try {
    return await source(
      {
        bucket: req.bucket,
        key: req.key,
        ...(req.versionId ? { versionId: req.versionId } : {}),
        ...(resuming ? { start: p.offset } : {}),
        ...(resuming && p.meta.etag ? { ifMatch: p.meta.etag } : {}),
      },
      req.signal,
    );
  } catch (err) {
    if (req.signal?.aborted) throw cancelled(req.signal);
    // The object changed under our partial (412) or the partial is past its end (416): start over.
    if (resuming && err instanceof DownloadError && (err.code === 'S3_OBJECT_CHANGED' || err.code === 'S3_INVALID_RANGE')) {
      throw await discard(new DownloadError(`${where}: the object changed since the interrupted download; starting over`, { code: err.code, retryable: true, cause: err }));
    }
    throw err;
  }
}

/**
 * Room for `needed` more bytes where the partial file goes, before the first of them is written;
 * else the partial is removed (it only fills the disk) and DISK_FULL says how much is missing.
 */
async function ensureSpace({ req, fs, discard }: Context, needed: number): Promise<void> {
  const dir = dirname(req.finalPath);
  let free: number;
  try {
    free = await freeBytes(fs, dir);
  } catch {
    return; // no statfs here (some FUSE file systems): ENOSPC while writing still says so
  }
  if (free < needed) throw await discard(new DiskFullError(dir, needed, free));
}

/** ENOSPC while writing: the partial goes (it only fills the disk), and DISK_FULL says what was needed. */
async function diskFull({ req, fs }: Context, p: Progress, written: number, err: unknown): Promise<DiskFullError> {
  const dir = dirname(req.finalPath);
  await discardPartial(req.finalPath, req.hash).catch(() => undefined);
  const free = await freeBytes(fs, dir).catch(() => 0);
  // Unknown size: at least one byte more than fitted, so a retry waits for the space to grow.
  return new DiskFullError(dir, p.total ?? Math.max(written, free) + 1, free, err);
}

/** Is the answer the rest of the same object, of an acceptable size? Saves what the sidecar learns. */
async function acceptResponse(ctx: Context, p: Progress, res: GetObjectResult): Promise<void> {
  const { req, files, where, discard } = ctx;
  const changed = p.offset > 0 && p.meta.etag !== undefined && res.etag !== undefined && res.etag !== p.meta.etag;
  if (res.start !== p.offset || changed) {
    if (res.start !== 0 || changed) throw await discard(new DownloadError(`${where}: the object changed since the interrupted download; starting over`, { code: 'S3_OBJECT_CHANGED', retryable: true }));
    // The server sent the whole object (range not honoured): take it from byte 0.
    p.offset = 0;
    p.hash = createHash('sha256');
  }
  const total = res.totalSize ?? p.total;
  if (total !== undefined && total > req.maxSize) throw await discard(new ObjectTooLargeError(where, total, req.maxSize, 'declared'));
  if (req.size !== undefined && total !== undefined && total !== req.size) {
    throw await discard(new DownloadError(`${where}: object size ${total} differs from the desired size ${req.size}`, { code: 'SIZE_MISMATCH', retryable: true }));
  }
  p.total = total;
  if (total !== undefined && total - p.offset !== p.spaceFor) await ensureSpace(ctx, total - p.offset);
  const meta: PartialMeta = { ...p.meta, ...(res.etag ? { etag: res.etag } : {}), ...(total !== undefined ? { size: total } : {}) };
  if (p.offset === 0 || JSON.stringify(meta) !== JSON.stringify(p.meta)) await writePartialMeta(files.meta, meta);
  p.meta = meta;
}

/** Hash, count and write the body; a stalled connection (no bytes for idleTimeoutMs) counts as cut. */
async function receiveBody(ctx: Context, p: Progress, body: Readable): Promise<void> {
  const { req, files, where, discard } = ctx;
  let handle;
  try {
    handle = await ctx.fs.open(files.part, p.offset > 0 ? 'r+' : 'w');
  } catch (err) {
    if (isDiskFull(err)) throw await diskFull(ctx, p, 0, err);
    throw installFailure('cannot write', files.part, err);
  }
  let bytes = p.offset;
  const idleMs = req.idleTimeoutMs ?? 60_000;
  let lastBytes = -1;
  const watchdog = setInterval(() => {
    if (bytes === lastBytes) body.destroy(new Error(`no data for ${idleMs} ms`));
    lastBytes = bytes;
  }, idleMs);
  try {
    const take = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > req.maxSize) throw new ObjectTooLargeError(where, bytes, req.maxSize, 'received');
      req.onProgress?.(bytes, p.total);
      p.hash.update(chunk);
    };
    await receive(body, handle, p.offset, take, req.signal);
  } catch (err) {
    if (req.signal?.aborted) throw cancelled(req.signal);
    if (err instanceof ObjectTooLargeError) {
      await handle.close().catch(() => undefined);
      throw await discard(err);
    }
    if (isDiskFull(err)) {
      await handle.close().catch(() => undefined);
      throw await diskFull(ctx, p, bytes, err);
    }
    throw new DownloadError(`${where}: connection lost after ${bytes} bytes: ${(err as Error).message}`, { code: 'S3_CONNECTION', retryable: true, cause: err });
  } finally {
    clearInterval(watchdog);
    p.fetched = bytes - p.offset;
    await handle.close().catch(() => undefined);
  }
  if (p.total !== undefined && bytes !== p.total) {
    throw new DownloadError(`${where}: stream ended after ${bytes} of ${p.total} bytes`, { code: 'S3_CONNECTION', retryable: true });
  }
  p.offset = bytes;
}

/** Step 3: verify before anything reaches the final path, then make the file durable and move it there. */
async function verifyAndInstall({ req, files, where, fs, discard }: Context, p: Progress): Promise<DownloadResult> {
  const actual = p.hash.digest('hex');
  if (actual !== req.hash) throw await discard(new HashMismatchError(where, req.hash, actual));
  try {
    // Measured: a background fdatasync every 32 MiB stalled the writes (1 GiB took 1.5-2 × as
    // long) while the one fsync here costs ~0.15 s per GiB, so there is only this one.
    const handle = await fs.open(files.part, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    // Cancelled while verifying (a newer value arrived): the superseded file never reaches the final path.
    if (req.signal?.aborted) throw cancelled(req.signal);
    await fs.rename(files.part, req.finalPath);
    await fsyncDir(dirname(req.finalPath));
    await removeIfExists(files.meta);
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    if (isDiskFull(err)) throw new DiskFullError(dirname(req.finalPath), p.offset, await freeBytes(fs, dirname(req.finalPath)).catch(() => 0), err);
    throw installFailure('cannot install', req.finalPath, err);
  }
  return { path: req.finalPath, size: p.offset, hash: actual, resumedFrom: p.resumedFrom, fetched: p.fetched };
}
