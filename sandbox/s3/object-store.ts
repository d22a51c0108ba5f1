/**
 * The local S3's bytes and version lists on disk, under one directory:
 *
 *   <dir>/<bucket>/bucket.json            versioning state
 *   <dir>/<bucket>/keys/<sha256(key)>.json the key and its versions, newest first
 *   <dir>/<bucket>/blobs/<random id>      the bytes of one version
 *
 * No key is ever part of a path (keys like `../../x` are just strings here), and bucket names are
 * checked against S3's rules, so nothing is written outside the directory. One process owns the
 * directory; changes to one key are serialised.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { applyDelete, applyPut, resolveRead, type Change, type DeleteOutcome, type KeyHistory, type ObjectVersion, type ReadResult, type Versioning } from './versions';
import { SerialQueue } from '../../core/util/serial-queue';
import { writeFileAtomicSync } from '../write-atomic';

/** S3's characters (a shorter minimum than S3's three, for short test names): never a path separator or `..`. */
const isValidBucketName = (name: string): boolean => /^[a-z0-9](?:[a-z0-9.-]{0,61}[a-z0-9])?$/.test(name) && !name.includes('..');

/**
 * Blobs up to this size are kept in memory once read, the most recently read up to
 * BLOB_CACHE_BYTES in all: a fleet's devices fetch the same object at once (reading it from disk
 * per device was a tenth of the sandbox's CPU with 1,000 devices). Blobs never change, so a cached
 * one is never stale. Larger ones stream from disk, whose pace leaves a client that hangs up early
 * most of the body unsent, as the agent's tests expect.
 */
const CACHED_BLOB_MAX = 2 << 20;
const BLOB_CACHE_BYTES = 64 << 20;

/** As a file stream would hand them out: a client that stops reading holds up the rest (back-pressure). */
function* slices(bytes: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A version id as S3 makes them: opaque, URL-safe, unique. */
const newId = (): string => randomBytes(16).toString('base64url');

export class ObjectStore {
  private readonly versioning = new Map<string, Versioning>();
  private readonly histories = new Map<string, KeyHistory | undefined>();
  private readonly queues = new Map<string, SerialQueue>();
  /** Blob path → bytes, least recently read first. */
  private readonly blobs = new Map<string, Buffer>();
  private blobBytes = 0;

  constructor(
    private readonly dir: string,
    /** Epoch ms, for LastModified. */
    private readonly clock: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) {
      const file = join(dir, name, 'bucket.json');
      if (isValidBucketName(name) && existsSync(file)) this.versioning.set(name, (JSON.parse(readFileSync(file, 'utf8')) as { versioning: Versioning }).versioning);
    }
  }

  /** Create the bucket if it does not exist; an existing bucket keeps its versioning. */
  createBucket(bucket: string, versioning: Versioning): void {
    if (!isValidBucketName(bucket)) throw new Error(`invalid bucket name ${JSON.stringify(bucket)}`);
    if (this.versioning.has(bucket)) return;
    for (const sub of ['keys', 'blobs']) mkdirSync(join(this.dir, bucket, sub), { recursive: true });
    this.setVersioning(bucket, versioning);
  }

  getVersioning(bucket: string): Versioning | undefined {
    return this.versioning.get(bucket);
  }

  setVersioning(bucket: string, versioning: Versioning): void {
    writeFileAtomicSync(join(this.dir, bucket, 'bucket.json'), JSON.stringify({ versioning }));
    this.versioning.set(bucket, versioning);
  }

  read(bucket: string, key: string, versionId?: string): ReadResult {
    return resolveRead(this.history(bucket, key), versionId);
  }

  /** The bytes of a version, from `start` to `end` inclusive. */
  openBlob(bucket: string, version: ObjectVersion, start: number, end: number): Readable {
    const path = join(this.dir, bucket, 'blobs', version.blob!);
    if (version.size > CACHED_BLOB_MAX) return createReadStream(path, { start, end });
    return Readable.from(slices(this.cachedBlob(path).subarray(start, end + 1)));
  }

  private cachedBlob(path: string): Buffer {
    let bytes = this.blobs.get(path);
    if (bytes) {
      this.blobs.delete(path);
    } else {
      bytes = readFileSync(path);
      this.blobBytes += bytes.length;
    }
    this.blobs.set(path, bytes);
    for (const [old, b] of this.blobs) {
      if (this.blobBytes <= BLOB_CACHE_BYTES) break;
      this.forgetBlob(old, b);
    }
    return bytes;
  }

  private forgetBlob(path: string, bytes = this.blobs.get(path)): void {
    if (bytes && this.blobs.delete(path)) this.blobBytes -= bytes.length;
  }

  /**
   * Store `body` as the key's new current version. `precondition` sees the current version (none
   * when absent or a delete marker) in the same step as the write, so a conditional write
   * (If-Match / If-None-Match) cannot lose a race: it throws to refuse.
   */
  async put(bucket: string, key: string, body: Readable, precondition?: (current: ObjectVersion | undefined) => void): Promise<ObjectVersion> {
    const blob = newId();
    const path = join(this.dir, bucket, 'blobs', blob);
    const md5 = createHash('md5');
    let size = 0;
    const count = async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        md5.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    };
    try {
      await pipeline(body, count, createWriteStream(`${path}.tmp`));
      await rename(`${path}.tmp`, path);
    } catch (err) {
      await unlink(`${path}.tmp`).catch(() => undefined);
      throw err;
    }
    const version: ObjectVersion = { versionId: newId(), deleteMarker: false, lastModified: new Date(this.clock()).toISOString(), size, etag: `"${md5.digest('hex')}"`, blob };
    try {
      const { history } = await this.change(bucket, key, (h) => {
        const current = resolveRead(h);
        precondition?.(current.type === 'object' ? current.version : undefined);
        return applyPut(h, key, this.versioning.get(bucket)!, version);
      });
      return history!.versions[0]!;
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
  }

  delete(bucket: string, key: string, versionId?: string): Promise<DeleteOutcome> {
    return this.change(bucket, key, (h) => applyDelete(h, key, this.versioning.get(bucket)!, versionId, { versionId: newId(), lastModified: new Date(this.clock()).toISOString() }));
  }

  /** Every version of every key under `prefix`, keys in order, newest version first. */
  listVersions(bucket: string, prefix = ''): KeyHistory[] {
    const out: KeyHistory[] = [];
    for (const name of readdirSync(join(this.dir, bucket, 'keys'))) {
      if (!name.endsWith('.json')) continue;
      const h = JSON.parse(readFileSync(join(this.dir, bucket, 'keys', name), 'utf8')) as KeyHistory;
      if (h.key.startsWith(prefix)) out.push(h);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private historyFile(bucket: string, key: string): string {
    return join(this.dir, bucket, 'keys', `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  private history(bucket: string, key: string): KeyHistory | undefined {
    const file = this.historyFile(bucket, key);
    if (!this.histories.has(file)) this.histories.set(file, existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as KeyHistory) : undefined);
    return this.histories.get(file);
  }

  /** Apply one change to a key's versions, one change per key at a time, and drop freed bytes. */
  private change<C extends Change>(bucket: string, key: string, apply: (h: KeyHistory | undefined) => C): Promise<C> {
    const file = this.historyFile(bucket, key);
    const run = async () => {
      const change = apply(this.history(bucket, key));
      const { history, dropped } = change;
      if (history) {
        await writeFile(`${file}.tmp`, JSON.stringify(history));
        await rename(`${file}.tmp`, file);
      } else {
        await rm(file, { force: true });
      }
      this.histories.set(file, history);
      for (const v of dropped) {
        if (!v.blob) continue;
        const path = join(this.dir, bucket, 'blobs', v.blob);
        this.forgetBlob(path);
        await rm(path, { force: true });
      }
      return change;
    };
    let queue = this.queues.get(file);
    if (!queue) this.queues.set(file, (queue = new SerialQueue()));
    return queue.run(run);
  }
}
