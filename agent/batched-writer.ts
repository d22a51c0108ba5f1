/**
 * Reads a response body into the partial file in batches: one `writev` per batch, at most one
 * batch being written while the next one fills (no per-chunk stream machinery or write syscall:
 * bench agent-download).
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** Bytes gathered before one write (so at most 2 × WRITE_BATCH of body in memory). */
export const WRITE_BATCH = 1024 * 1024;
/**
 * A smaller batch is written anyway this long after its first byte arrived (slow or stalled links,
 * so a partial file kept for a resume holds what arrived). Measured: at 20 ms the extra small
 * writes cost ~0.2 CPU-s per GiB over loopback; at 250 ms they do not show.
 */
export const WRITE_DELAY_MS = 250;

/** Looks at each chunk before it is written (count, limit, hash); throws to stop. */
export type ChunkCheck = (chunk: Buffer) => void;

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
 * Read `body` to its end into `handle` from `position` on. Each chunk goes through `take`, then is
 * written in batches of WRITE_BATCH or what arrived within WRITE_DELAY_MS. Reading pauses while a
 * full batch waits for the write before it. On any failure the body is destroyed and the promise
 * rejects once no write is in flight, so the file holds a prefix of the object: after a body
 * failure (cut, stall), every byte taken, for the resume.
 */
export function receive(body: Readable, handle: FileHandle, position: number, take: ChunkCheck, signal?: AbortSignal): Promise<void> {
  return new BatchedWriter(body, handle, position, take, signal).done;
}

class BatchedWriter {
  readonly done: Promise<void>;
  private settleWith!: (err?: unknown) => void;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  /** WRITE_DELAY_MS passed since the batch's first byte: write it at the next chance, full or not. */
  private due = false;
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private ended = false;
  private settled = false;
  private failure: unknown;
  /** After the body failed, the bytes already taken are still written (more to keep for a resume). */
  private salvage = false;

  constructor(
    private readonly body: Readable,
    private readonly handle: FileHandle,
    private position: number,
    private readonly take: ChunkCheck,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.settleWith = (err) => (err === undefined ? resolve() : reject(err instanceof Error ? err : new Error(String(err))));
    });
    if (signal?.aborted) {
      this.fail(signal.reason ?? new Error('aborted'));
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    body.on('error', this.onError);
    body.on('end', this.onEnd);
    body.on('close', this.onClose);
    body.on('data', this.onData);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.failure !== undefined) return;
    try {
      this.take(chunk);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    // So what arrived is on disk soon also when the rest of the batch is slow to come.
    this.timer ??= setTimeout(this.onDelay, WRITE_DELAY_MS);
    this.step();
  };

  private readonly onDelay = (): void => {
    this.timer = undefined;
    this.due = true;
    this.step();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.step();
  };
  private readonly onError = (err: unknown): void => this.fail(err, true);
  private readonly onClose = (): void => {
    if (!this.ended) this.fail(new Error('premature close'), true);
  };
  private readonly onAbort = (): void => this.fail(this.signal?.reason ?? new Error('aborted'));

  private fail(err: unknown, keepTaken = false): void {
    if (this.failure !== undefined || this.settled) return;
    this.failure = err ?? new Error('download failed');
    this.salvage = keepTaken;
    if (!this.body.destroyed) this.body.destroy();
    this.step();
  }

  /** After every change: start a write if one is due, finish, or pause/resume reading. */
  private step(): void {
    if (this.failure !== undefined) {
      if (this.salvage && !this.writing && this.batchBytes > 0) this.flush();
      this.settle();
      return;
    }
    if (!this.writing && this.batchBytes > 0 && (this.batchBytes >= WRITE_BATCH || this.ended || this.due)) this.flush();
    if (this.ended && !this.writing && this.batchBytes === 0) {
      this.settle();
      return;
    }
    if (this.writing && this.batchBytes >= WRITE_BATCH) this.body.pause();
    else if (!this.ended && this.body.isPaused()) this.body.resume();
  }

  private flush(): void {
    const chunks = this.batch;
    const length = this.batchBytes;
    const at = this.position;
    this.position += length;
    this.batch = [];
    this.batchBytes = 0;
    this.due = false;
    this.writing = true;
    writeFully(this.handle, chunks, length, at).then(
      () => {
        this.writing = false;
        this.step();
      },
      (err: unknown) => {
        this.writing = false;
        this.salvage = false;
        this.fail(err);
        this.settle();
      },
    );
  }

  private settle(): void {
    if (this.settled || this.writing) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.body.off('data', this.onData);
    this.body.off('end', this.onEnd);
    this.body.off('close', this.onClose);
    this.signal?.removeEventListener('abort', this.onAbort);
    // Late errors of the destroyed body have nowhere to go.
    this.body.off('error', this.onError);
    this.body.on('error', () => undefined);
    this.settleWith(this.failure);
  }
}
