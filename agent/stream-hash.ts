/**
 * SHA-256 of a byte stream, fed chunk by chunk. Two implementations behind one interface:
 *
 * - `InlineHash`: node:crypto on the calling thread (small objects: no thread start-up).
 * - `WorkerHash`: the hashing runs on a worker thread, so on a multi-core device the SHA-256
 *   work overlaps with receiving and writing instead of adding to it (on a Raspberry Pi without
 *   SHA instructions hashing is slower than the network). Chunks are copied into 1 MiB batches
 *   and transferred (no second copy); at most `maxInFlight` bytes wait for the worker, which is
 *   the back-pressure that keeps memory constant.
 *
 * Written here rather than taken from npm: node offers no off-thread incremental hash, and the
 * worker is 30 lines of plain JavaScript (evaluated, so it needs no TypeScript loader).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface StreamHash {
  /** Add bytes. A returned promise means: wait before sending more (back-pressure). */
  update(chunk: Buffer): Promise<void> | undefined;
  /** Add the whole content of a file (a partial download being resumed); resolves with its size. */
  hashFile(path: string): Promise<number>;
  /** Lower-case hex digest of everything added. */
  digest(): Promise<string>;
  close(): void;
}

export class InlineHash implements StreamHash {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Buffer): undefined {
    this.hash.update(chunk);
    return undefined;
  }

  async hashFile(path: string): Promise<number> {
    let bytes = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      this.hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return bytes;
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }

  close(): void {}
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
const hash = createHash('sha256');
parentPort.on('message', async (m) => {
  try {
    if (m.type === 'data') {
      hash.update(new Uint8Array(m.buffer, 0, m.length));
      // The batch goes back to be filled again: no garbage, so memory stays flat.
      parentPort.postMessage({ type: 'ack', length: m.length, buffer: m.buffer }, [m.buffer]);
    } else if (m.type === 'file') {
      let bytes = 0;
      for await (const chunk of createReadStream(m.path, { highWaterMark: 1 << 20 })) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      parentPort.postMessage({ type: 'file', bytes });
    } else if (m.type === 'digest') {
      parentPort.postMessage({ type: 'digest', hex: hash.digest('hex') });
    }
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: String(err && err.message || err), code: err && err.code });
  }
});
`;

const BATCH = 1 << 20;

type Reply = { type: 'ack'; length: number; buffer: ArrayBuffer } | { type: 'file'; bytes: number } | { type: 'digest'; hex: string } | { type: 'error'; message: string; code?: string };

export class WorkerHash implements StreamHash {
  private readonly worker: Worker;
  private batch: Buffer = Buffer.allocUnsafeSlow(BATCH);
  /** Batches the worker has handed back, ready for reuse. */
  private readonly free: ArrayBuffer[] = [];
  private used = 0;
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private pendingReply: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly maxInFlight = 4 * BATCH) {
    // The worker only holds a hash state: a small heap is plenty.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    this.worker.unref();
    this.worker.on('message', (r: Reply) => {
      if (r.type === 'ack') {
        this.inFlight -= r.length;
        this.free.push(r.buffer);
        if (this.waiting && this.inFlight <= this.maxInFlight / 2) {
          const w = this.waiting;
          this.waiting = undefined;
          w();
        }
        return;
      }
      const p = this.pendingReply;
      this.pendingReply = undefined;
      if (r.type === 'error') {
        const err = Object.assign(new Error(r.message), r.code ? { code: r.code } : {});
        p?.reject(err);
      } else p?.resolve(r);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('hash worker exited')));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.pendingReply?.reject(err);
    this.pendingReply = undefined;
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  private post(): void {
    if (this.used === 0) return;
    const buffer = this.batch.buffer;
    this.worker.postMessage({ type: 'data', buffer, length: this.used }, [buffer as ArrayBuffer]);
    this.inFlight += this.used;
    const reuse = this.free.pop();
    this.batch = reuse ? Buffer.from(reuse) : Buffer.allocUnsafeSlow(BATCH);
    this.used = 0;
  }

  update(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(chunk.length - offset, BATCH - this.used);
      chunk.copy(this.batch, this.used, offset, offset + n);
      this.used += n;
      offset += n;
      if (this.used === BATCH) this.post();
    }
    if (this.inFlight <= this.maxInFlight) return undefined;
    return new Promise<void>((resolve) => (this.waiting = resolve)).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  private request(message: object): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.pendingReply = { resolve, reject };
      this.worker.postMessage(message);
    });
  }

  async hashFile(path: string): Promise<number> {
    this.post();
    const r = await this.request({ type: 'file', path });
    return r.type === 'file' ? r.bytes : 0;
  }

  async digest(): Promise<string> {
    this.post();
    const r = await this.request({ type: 'digest' });
    return r.type === 'digest' ? r.hex : '';
  }

  close(): void {
    this.failure ??= new Error('hash closed');
    void this.worker.terminate();
  }
}

/** Objects from this size on are hashed on a worker thread. */
export const WORKER_HASH_MIN_BYTES = 16 * 1024 * 1024;

/**
 * Where the SHA-256 runs: `auto` = a worker for large objects on machines with more than two CPUs.
 * Measured on 2 CPUs (bench agent-download): the worker's copies and thread cost about as much as
 * they save there, so two CPUs hash inline; with more cores (or slow SHA on ARM) the worker pays.
 */
export type HashThread = 'auto' | 'worker' | 'inline';

export function createStreamHash(expectedSize: number | undefined, thread: HashThread = 'auto'): StreamHash {
  if (thread === 'worker') return new WorkerHash();
  if (thread === 'inline') return new InlineHash();
  const large = expectedSize !== undefined && expectedSize >= WORKER_HASH_MIN_BYTES;
  return large && availableParallelism() > 2 ? new WorkerHash() : new InlineHash();
}
