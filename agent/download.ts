/**
 * Download one object to its final path so that only a verified file ever appears there.
 *
 * Bytes go to a partial file in the destination directory (same file system, so the final
 * rename is atomic) while a SHA-256 runs over them in the same pass; then fsync, compare with
 * the desired hash, rename, fsync the directory. The size limit is enforced as bytes arrive.
 *
 * Resume: the partial file and a small sidecar (bucket, key, version, wanted hash, ETag) stay
 * on disk when a download is interrupted. Next time the same object is wanted (also after a
 * restart) the partial file is re-hashed from disk (node's Hash cannot be saved, and the disk
 * holds exactly what was written, even after a kill) and the rest is fetched with a Range
 * request, checked against the saved ETag.
 */
import { open, readFile, readdir, rename, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { CancelledError, DownloadError, HashMismatchError, InstallError, ObjectTooLargeError } from './errors';
import { fsyncDir, removeIfExists, writeFileAtomic } from './fs-atomic';
import { WORK_FILE_PREFIX } from './install-path';
import type { ObjectSource } from './s3-source';
import { createStreamHash, type HashThread, type StreamHash } from './stream-hash';

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
  /** Called as bytes arrive: bytes present in the partial file so far and the total when known. */
  onProgress?: (bytes: number, total: number | undefined) => void;
  /** Give up on a connection that delivers nothing for this long (default 60 s); the partial is kept. */
  idleTimeoutMs?: number;
  /** Where the SHA-256 runs (default `auto`: a worker thread for large objects on multi-core machines). */
  hashThread?: HashThread;
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

interface PartialMeta {
  bucket: string;
  key: string;
  versionId?: string;
  hash: string;
  etag?: string;
  size?: number;
}

/** The partial file and its sidecar for a given final path and wanted hash. */
export function partialPaths(finalPath: string, hash: string): { part: string; meta: string } {
  const part = join(dirname(finalPath), `${WORK_FILE_PREFIX}${basename(finalPath)}.${hash.slice(0, 16)}.part`);
  return { part, meta: `${part}.json` };
}

/** Remove an interrupted download's files (it will not be resumed: a newer value is wanted). */
export async function discardPartial(finalPath: string, hash: string): Promise<void> {
  const { part, meta } = partialPaths(finalPath, hash);
  await removeIfExists(part);
  await removeIfExists(meta);
}

/** Remove partial downloads of the same file name for other hashes (left by a stale desired value). */
async function discardOtherPartials(finalPath: string, keepHash: string): Promise<void> {
  const dir = dirname(finalPath);
  const prefix = `${WORK_FILE_PREFIX}${basename(finalPath)}.`;
  const keep = basename(partialPaths(finalPath, keepHash).part);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    if (!/^[0-9a-f]{16}\.part(\.json)?$/.test(rest)) continue;
    if (name === keep || name === `${keep}.json`) continue;
    await removeIfExists(join(dir, name));
  }
}

async function readMeta(path: string): Promise<PartialMeta | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as PartialMeta;
  } catch {
    return undefined;
  }
}

function sameTarget(meta: PartialMeta | undefined, req: DownloadRequest): meta is PartialMeta {
  return !!meta && meta.bucket === req.bucket && meta.key === req.key && meta.hash === req.hash && (meta.versionId ?? '') === (req.versionId ?? '');
}

function cancelled(signal: AbortSignal | undefined): CancelledError {
  const reason: unknown = signal?.reason;
  return reason instanceof CancelledError ? reason : new CancelledError('download aborted');
}

/**
 * Bytes gathered from the connection before one write to the partial file. The socket delivers
 * 64 KiB chunks; one `writev` per batch instead of a write per chunk, with at most one batch being
 * written while the next one fills (so at most 2 × WRITE_BATCH of body in memory).
 */
export const WRITE_BATCH = 1024 * 1024;
/**
 * A smaller batch is written anyway this long after its first byte arrived (slow or stalled links,
 * so a partial file kept for a resume holds what arrived). Measured: at 20 ms the extra small
 * writes cost ~0.2 CPU-s per GiB over loopback; at 250 ms they do not show.
 */
export const WRITE_DELAY_MS = 250;

/** Write `chunks` (`length` bytes in all) at `position`, also when the kernel takes only part of them. */
async function writeFully(handle: FileHandle, chunks: Buffer[], length: number, position: number): Promise<void> {
  let { bytesWritten } = await handle.writev(chunks, position);
  if (bytesWritten === length) return;
  const rest = Buffer.concat(chunks, length);
  while (bytesWritten < length) {
    const r = await handle.write(rest, bytesWritten, length - bytesWritten, position + bytesWritten);
    if (r.bytesWritten <= 0) throw new Error(`short write at byte ${position + bytesWritten}`);
    bytesWritten += r.bytesWritten;
  }
}

/**
 * Read `body` to its end into `handle` from `position` on. Every chunk goes through `take` first
 * (count, size limit, progress, hash: it throws to stop, and a returned promise pauses reading
 * until it settles), then is written exactly as it was taken, in batches of WRITE_BATCH or what
 * arrived within WRITE_DELAY_MS, whichever comes first. Reading pauses while a full batch
 * waits for the write before it (back-pressure down to the socket). On any failure (body error
 * or premature end, `take` throwing, a write failing, `signal` aborting) the body is destroyed and
 * the promise rejects once no write is in flight, so the partial file holds a prefix of the object:
 * after a body failure (cut, stall) that prefix is every byte taken, for the resume.
 *
 * This replaces a Transform + pipeline into a write stream: same bytes, but no per-chunk stream
 * machinery or write syscall (bench agent-download).
 */
export function receive(body: Readable, handle: FileHandle, position: number, take: (chunk: Buffer) => Promise<void> | undefined, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let writing = false;
    let hashWait = false;
    let ended = false;
    let done = false;
    let failure: unknown;
    /** After the body failed, the bytes already taken are still written (more to keep for a resume). */
    let salvage = false;
    /** WRITE_DELAY_MS passed since the batch's first byte: write it at the next chance, full or not. */
    let due = false;
    let timer: NodeJS.Timeout | undefined;

    const cleanup = () => {
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      // Late errors of the destroyed body have nowhere to go.
      body.off('error', onError);
      body.on('error', () => undefined);
    };
    const settle = () => {
      if (done || writing) return;
      done = true;
      cleanup();
      if (failure !== undefined) reject(failure instanceof Error ? failure : new Error(String(failure)));
      else resolve();
    };
    function fail(err: unknown, keepTaken = false): void {
      if (failure !== undefined || done) return;
      failure = err ?? new Error('download failed');
      salvage = keepTaken;
      if (!body.destroyed) body.destroy();
      step();
    }
    const flush = () => {
      const chunks = batch;
      const length = batchBytes;
      const at = position;
      position += length;
      batch = [];
      batchBytes = 0;
      due = false;
      writing = true;
      writeFully(handle, chunks, length, at).then(
        () => {
          writing = false;
          step();
        },
        (err: unknown) => {
          writing = false;
          salvage = false;
          fail(err);
          settle();
        },
      );
    };
    /** After every change: start a write if one is due, finish, or pause/resume reading. */
    const step = () => {
      if (failure !== undefined) {
        if (salvage && !writing && batchBytes > 0) flush();
        settle();
        return;
      }
      if (!writing && !hashWait && batchBytes > 0 && (batchBytes >= WRITE_BATCH || ended || due)) flush();
      if (ended && !writing && !hashWait && batchBytes === 0) {
        settle();
        return;
      }
      if (hashWait || (writing && batchBytes >= WRITE_BATCH)) body.pause();
      else if (!ended && body.isPaused()) body.resume();
    };
    function onData(chunk: Buffer): void {
      if (failure !== undefined) return;
      let wait;
      try {
        wait = take(chunk);
      } catch (err) {
        fail(err);
        return;
      }
      batch.push(chunk);
      batchBytes += chunk.length;
      // So what arrived is on disk soon also when the rest of the batch is slow to come (a
      // partial file kept for a resume then holds it, even after a kill).
      timer ??= setTimeout(onDelay, WRITE_DELAY_MS);
      if (wait) {
        hashWait = true;
        wait.then(
          () => {
            hashWait = false;
            step();
          },
          (err: unknown) => {
            hashWait = false;
            fail(err);
          },
        );
      }
      step();
    }
    function onDelay(): void {
      timer = undefined;
      due = true;
      step();
    }
    function onEnd(): void {
      ended = true;
      step();
    }
    function onError(err: unknown): void {
      fail(err, true);
    }
    function onClose(): void {
      if (!ended) fail(new Error('premature close'), true);
    }
    function onAbort(): void {
      fail(signal?.reason ?? new Error('aborted'));
    }

    if (signal?.aborted) {
      fail(signal.reason ?? new Error('aborted'));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    body.on('error', onError);
    body.on('end', onEnd);
    body.on('close', onClose);
    body.on('data', onData);
  });
}

/** Download, verify and install. Throws a typed AgentError; on failure nothing is at `finalPath` that was not there before. */
export async function downloadObject(source: ObjectSource, req: DownloadRequest): Promise<DownloadResult> {
  const where = `s3://${req.bucket}/${req.key}`;
  if (req.size !== undefined && req.size > req.maxSize) throw new ObjectTooLargeError(where, req.size, req.maxSize, 'declared');
  const { part, meta: metaPath } = partialPaths(req.finalPath, req.hash);
  await discardOtherPartials(req.finalPath, req.hash);

  let hasher: StreamHash | undefined;
  // Closing the hasher on abort also stops a long re-hash of a partial file.
  const onAbort = () => hasher?.close();
  req.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // Anything resumable from an earlier attempt?
    let meta = await readMeta(metaPath);
    let offset = 0;
    if (sameTarget(meta, req)) {
      try {
        const st = await stat(part);
        if (st.size > 0 && st.size <= req.maxSize && (meta.size === undefined || st.size <= meta.size)) {
          hasher = createStreamHash(meta.size ?? req.size, req.hashThread);
          offset = await hasher.hashFile(part);
        }
      } catch (err) {
        if (req.signal?.aborted) throw cancelled(req.signal);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new InstallError(`cannot read partial file ${part}: ${(err as Error).message}`, { cause: err });
      }
    }
    if (offset === 0) {
      hasher?.close();
      hasher = undefined;
      meta = { bucket: req.bucket, key: req.key, hash: req.hash, ...(req.versionId ? { versionId: req.versionId } : {}) };
      await removeIfExists(part);
    }
    const resumedFrom = offset;
    let fetched = 0;
    let total = meta!.size ?? req.size;

    // A partial that already holds every byte needs no request.
    const complete = offset > 0 && total !== undefined && offset === total;
    if (!complete) {
      let res;
      try {
        res = await source(
          { bucket: req.bucket, key: req.key, ...(req.versionId ? { versionId: req.versionId } : {}), ...(offset > 0 ? { start: offset } : {}), ...(offset > 0 && meta!.etag ? { ifMatch: meta!.etag } : {}) },
          req.signal,
        );
      } catch (err) {
        if (req.signal?.aborted) throw cancelled(req.signal);
        // The object changed under our partial (412) or the partial is past its end (416): start over.
        if (err instanceof DownloadError && (err.code === 'S3_CHANGED' || err.code === 'S3_INVALID_RANGE') && offset > 0) {
          await discardPartial(req.finalPath, req.hash);
        }
        throw err;
      }
      const body = res.body;
      try {
        const changed = offset > 0 && meta!.etag !== undefined && res.etag !== undefined && res.etag !== meta!.etag;
        if (res.start !== offset || changed) {
          // The server sent the whole object (range not honoured) or another object.
          offset = 0;
          hasher?.close();
          hasher = undefined;
          if (res.start !== 0 || changed) {
            body.destroy();
            await discardPartial(req.finalPath, req.hash);
            throw new DownloadError(`${where}: the object changed since the interrupted download; starting over`, { code: 'S3_CHANGED', retryable: true });
          }
        }
        total = res.totalSize ?? total;
        if (total !== undefined && total > req.maxSize) {
          body.destroy();
          await discardPartial(req.finalPath, req.hash);
          throw new ObjectTooLargeError(where, total, req.maxSize, 'declared');
        }
        if (req.size !== undefined && total !== undefined && total !== req.size) {
          body.destroy();
          await discardPartial(req.finalPath, req.hash);
          throw new DownloadError(`${where}: object size ${total} differs from the desired size ${req.size}`, { code: 'SIZE_MISMATCH', retryable: true });
        }
        const nextMeta: PartialMeta = { ...meta!, ...(res.etag ? { etag: res.etag } : {}), ...(total !== undefined ? { size: total } : {}) };
        if (offset === 0 || JSON.stringify(nextMeta) !== JSON.stringify(meta)) await writeFileAtomic(metaPath, JSON.stringify(nextMeta));
        meta = nextMeta;
        hasher ??= createStreamHash(total, req.hashThread);

        let bytes = offset;
        const h = hasher;
        const maxSize = req.maxSize;
        const onProgress = req.onProgress;
        let handle: FileHandle;
        try {
          handle = await open(part, offset > 0 ? 'r+' : 'w');
        } catch (err) {
          throw new InstallError(`cannot write ${part}: ${(err as Error).message}`, { cause: err });
        }
        // A stalled connection (no bytes for idleTimeoutMs) is treated like a cut one.
        const idleMs = req.idleTimeoutMs ?? 60_000;
        let lastBytes = -1;
        const watchdog = setInterval(() => {
          if (bytes === lastBytes) body.destroy(new Error(`no data for ${idleMs} ms`));
          lastBytes = bytes;
        }, idleMs);
        try {
          await receive(
            body,
            handle,
            offset,
            (chunk) => {
              bytes += chunk.length;
              if (bytes > maxSize) throw new ObjectTooLargeError(where, bytes, maxSize, 'received');
              onProgress?.(bytes, total);
              return h.update(chunk);
            },
            req.signal,
          );
        } catch (err) {
          if (req.signal?.aborted) throw cancelled(req.signal);
          if (err instanceof ObjectTooLargeError) {
            await handle.close().catch(() => undefined);
            await discardPartial(req.finalPath, req.hash);
            throw err;
          }
          throw new DownloadError(`${where}: connection lost after ${bytes} bytes: ${(err as Error).message}`, { code: 'S3_CONNECTION', retryable: true, cause: err });
        } finally {
          clearInterval(watchdog);
          fetched = bytes - offset;
          await handle.close().catch(() => undefined);
        }
        if (total !== undefined && bytes !== total) {
          throw new DownloadError(`${where}: stream ended after ${bytes} of ${total} bytes`, { code: 'S3_CONNECTION', retryable: true });
        }
        offset = bytes;
      } finally {
        if (!body.destroyed) body.destroy();
      }
    }

    // Verify before anything reaches the final path.
    const actual = await (hasher ?? createStreamHash(0)).digest();
    if (actual !== req.hash) {
      await discardPartial(req.finalPath, req.hash);
      throw new HashMismatchError(where, req.hash, actual);
    }
    try {
      // Measured: a background fdatasync every 32 MiB stalled the writes (1 GiB took 1.5-2 × as
      // long) while the one fsync here costs ~0.15 s per GiB, so there is only this one.
      const handle = await open(part, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(part, req.finalPath);
      await fsyncDir(dirname(req.finalPath));
      await removeIfExists(metaPath);
    } catch (err) {
      throw new InstallError(`cannot install ${req.finalPath}: ${(err as Error).message}`, { cause: err });
    }
    return { path: req.finalPath, size: offset, hash: actual, resumedFrom, fetched };
  } catch (err) {
    if (req.signal?.aborted && !(err instanceof CancelledError)) throw cancelled(req.signal);
    throw err;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    hasher?.close();
  }
}
