/**
 * The download's receive loop (batched writes, one in flight) and the guarantees around it,
 * driven by a fake ObjectSource whose body is under the test's control: chunk sizes that cross
 * batch boundaries, stalls, errors, premature ends, aborts, failing writes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { receive, WRITE_BATCH, WRITE_DELAY_MS } from '../../../agent/batched-writer';
import { downloadObject } from '../../../agent/download';
import { partialPaths } from '../../../agent/partial-store';
import { CancelledError, DownloadError, ObjectTooLargeError } from '../../../agent/errors';
import type { GetObjectInput, ObjectSource } from '../../../agent/s3-source';
import { objectBytes, sha256 } from '../../helpers/agent-fixtures';

const SIZE = 3 * WRITE_BATCH + 12_345;
const data = objectBytes(SIZE, 21);
const hash = sha256(data);

/** A body that sends `bytes` in `chunk`-sized pieces, then ends, stalls (`stallAt`) or fails (`failAt`). */
function body(bytes: Buffer, opts: { chunk?: number; stallAt?: number; failAt?: number; closeAt?: number } = {}): Readable {
  const chunk = opts.chunk ?? 37 * 1024 + 3;
  let at = 0;
  return new Readable({
    highWaterMark: 64 * 1024,
    read() {
      const stop = opts.stallAt ?? opts.failAt ?? opts.closeAt;
      if (stop !== undefined && at >= stop) {
        if (opts.failAt !== undefined) this.destroy(new Error('connection reset'));
        else if (opts.closeAt !== undefined) this.destroy();
        return; // stalled: nothing more, ever
      }
      if (at >= bytes.length) {
        this.push(null);
        return;
      }
      const end = Math.min(bytes.length, at + chunk, stop ?? Infinity);
      // A fresh copy, as a socket would deliver.
      this.push(Buffer.from(bytes.subarray(at, end)));
      at = end;
    },
  });
}

const realSetTimeout = setTimeout;
/** Polls `ready` on the real clock (also while timers are faked), failing after 10 s. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; !ready(); i++) {
    if (i > 2000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => realSetTimeout(r, 5));
  }
}

/** An ObjectSource serving `bytes`, honouring ranges; records the requests. */
function fakeSource(bytes: Buffer, opts: { chunk?: number; stallAt?: number; failAt?: number; closeAt?: number; declareSize?: boolean } = {}) {
  const requests: GetObjectInput[] = [];
  const source: ObjectSource = (input) => {
    requests.push(input);
    const start = input.start ?? 0;
    const rest = bytes.subarray(start);
    const shifted = { ...opts, ...(opts.stallAt !== undefined ? { stallAt: opts.stallAt - start } : {}), ...(opts.failAt !== undefined ? { failAt: opts.failAt - start } : {}) };
    return Promise.resolve({
      body: body(rest, shifted),
      status: start > 0 ? 206 : 200,
      start,
      etag: '"etag-1"',
      ...(opts.declareSize === false ? {} : { totalSize: bytes.length }),
    });
  };
  return { source, requests };
}

describe('downloadObject with a controlled body', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-dl-unit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const finalPath = () => join(dir, 'app.bin');
  const request = (over: Partial<Parameters<typeof downloadObject>[1]> = {}) => ({ bucket: 'b', key: 'k/app.bin', hash, maxSize: 64 * 1024 * 1024, finalPath: finalPath(), ...over });

  it.each([
    ['odd chunks across batch boundaries', 37 * 1024 + 3],
    ['one-byte-short-of-a-batch chunks', WRITE_BATCH - 1],
    ['chunks larger than a batch', WRITE_BATCH * 2 + 7],
    ['tiny chunks', 997],
  ])('writes exactly the hashed bytes in order (%s) and reports progress per chunk', async (_name, chunk) => {
    const { source } = fakeSource(data, { chunk });
    const progress: number[] = [];
    const result = await downloadObject(source, request({ onProgress: (bytes, total) => (expect(total).toBe(SIZE), progress.push(bytes)) }));
    expect(result).toMatchObject({ size: SIZE, hash, fetched: SIZE, resumedFrom: 0 });
    expect(readFileSync(finalPath()).equals(data)).toBe(true);
    expect(readdirSync(dir)).toEqual(['app.bin']);
    expect(progress.at(-1)).toBe(SIZE);
    expect(progress.length).toBe(Math.ceil(SIZE / chunk));
    expect(progress.every((b, i) => i === 0 || b > progress[i - 1]!)).toBe(true);
  });

  it('installs a file whose name is 255 bytes long: its working files are named independently of it', async () => {
    const name = `${'n'.repeat(251)}.bin`;
    const { source } = fakeSource(data, { chunk: 1 << 20 });
    const result = await downloadObject(source, request({ finalPath: join(dir, name), key: `k/${name}` }));
    expect(result.hash).toBe(hash);
    expect(readdirSync(dir)).toEqual([name]);
  });

  it('keeps the partial of a 255-byte name across a cut and resumes it', async () => {
    const name = `${'r'.repeat(251)}.bin`;
    const cut = fakeSource(data, { failAt: WRITE_BATCH + 99 });
    const first = await downloadObject(cut.source, request({ finalPath: join(dir, name) })).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 'S3_CONNECTION', retryable: true });
    const result = await downloadObject(fakeSource(data).source, request({ finalPath: join(dir, name) }));
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(readFileSync(join(dir, name)).equals(data)).toBe(true);
  });

  it('fails for good with FILE_NAME_TOO_LONG when the file system refuses the name (not retried, not UNEXPECTED)', async () => {
    const name = `${'x'.repeat(300)}.bin`;
    const err = await downloadObject(fakeSource(data).source, request({ finalPath: join(dir, name) })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FILE_NAME_TOO_LONG', retryable: false });
    expect((err as Error).message).toMatch(/does not accept a file name this long/);
  });

  it('enforces the size limit as bytes arrive when no size is declared, removing the partial', async () => {
    writeFileSync(finalPath(), 'previous');
    const { source } = fakeSource(data, { declareSize: false });
    const err = await downloadObject(source, request({ maxSize: WRITE_BATCH + 100 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectTooLargeError);
    expect((err as Error).message).toMatch(/received/);
    expect(readFileSync(finalPath(), 'utf8')).toBe('previous');
    expect(readdirSync(dir)).toEqual(['app.bin']);
  });

  it('gives up on a stalled body after the idle timeout, keeps a prefix as the partial, and resumes from it', async () => {
    const stallAt = 2 * WRITE_BATCH + 5000;
    const first = fakeSource(data, { stallAt });
    const err = await downloadObject(first.source, request({ idleTimeoutMs: 150 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as DownloadError).code).toBe('S3_CONNECTION');
    expect((err as Error).message).toMatch(/no data for 150 ms/);
    expect(existsSync(finalPath())).toBe(false);
    const { part, meta } = partialPaths(finalPath(), hash);
    const partial = readFileSync(part);
    expect(partial.length).toBe(stallAt);
    expect(partial.equals(data.subarray(0, stallAt))).toBe(true);
    expect(existsSync(meta)).toBe(true);

    const second = fakeSource(data);
    const result = await downloadObject(second.source, request());
    expect(second.requests[0]).toMatchObject({ start: stallAt, ifMatch: '"etag-1"' });
    expect(result).toMatchObject({ resumedFrom: stallAt, fetched: SIZE - stallAt, hash });
    expect(readFileSync(finalPath()).equals(data)).toBe(true);
    expect(readdirSync(dir)).toEqual(['app.bin']);
  });

  it('keeps a prefix when the body fails or closes early, and reports a retryable connection error', async () => {
    for (const cut of [{ failAt: WRITE_BATCH + 77 }, { closeAt: 2 * WRITE_BATCH + 1 }]) {
      const { source } = fakeSource(data, cut);
      const err = await downloadObject(source, request()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DownloadError);
      expect((err as DownloadError).code).toBe('S3_CONNECTION');
      expect(existsSync(finalPath())).toBe(false);
      const partial = readFileSync(partialPaths(finalPath(), hash).part);
      expect(partial.equals(data.subarray(0, partial.length))).toBe(true);
      rmSync(partialPaths(finalPath(), hash).part);
    }
  });

  it('stops at once when its signal aborts mid-body', async () => {
    const { source } = fakeSource(data, { stallAt: WRITE_BATCH + 10 });
    const controller = new AbortController();
    const progress: number[] = [];
    const run = downloadObject(source, request({ signal: controller.signal, onProgress: (b) => progress.push(b) })).catch((e: unknown) => e);
    await vi.waitFor(() => expect(progress.at(-1)).toBe(WRITE_BATCH + 10), { timeout: 10_000, interval: 5 });
    // The body stalls forever: only the abort can end the download (the test's timeout is the bound).
    controller.abort(new CancelledError('newer desired value'));
    const err = await run;
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).message).toContain('newer desired value');
    expect(existsSync(finalPath())).toBe(false);
  }, 15_000);
});

describe('receive', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-receive-'));
    mkdirSync(join(dir, 'x'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes at the given position every chunk it took', async () => {
    const path = join(dir, 'f');
    writeFileSync(path, data.subarray(0, 1000));
    const handle = await open(path, 'r+');
    const taken: Buffer[] = [];
    try {
      await receive(body(data.subarray(1000)), handle, 1000, (chunk) => void taken.push(chunk));
    } finally {
      await handle.close();
    }
    expect(Buffer.concat(taken).equals(data.subarray(1000))).toBe(true);
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('stops reading while a full batch waits for a slow write (memory stays bounded)', async () => {
    const path = join(dir, 'f');
    const real = await open(path, 'w');
    let written = 0;
    let taken = 0;
    let most = 0;
    const slow = {
      writev: async (chunks: Buffer[], position: number) => {
        await new Promise((r) => setTimeout(r, 15));
        const r = await real.writev(chunks, position);
        written += r.bytesWritten;
        return r;
      },
      write: real.write.bind(real),
    } as unknown as FileHandle;
    const chunk = 64 * 1024;
    try {
      await receive(body(data, { chunk }), slow, 0, (c) => {
        taken += c.length;
        most = Math.max(most, taken - written);
        return undefined;
      });
    } finally {
      await real.close();
    }
    expect(written).toBe(SIZE);
    expect(most).toBeLessThanOrEqual(2 * WRITE_BATCH + chunk);
    expect(readFileSync(path).equals(data)).toBe(true);
  });

  it('writes what arrived within WRITE_DELAY_MS while the body stalls short of a batch', async () => {
    const path = join(dir, 'f');
    const handle = await open(path, 'w');
    const stallAt = WRITE_BATCH + 300_001;
    const b = body(data, { stallAt });
    let taken = 0;
    // Only the timers are fake (file writes stay real): WRITE_DELAY_MS passes when the test says so.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const run = receive(b, handle, 0, (c) => void (taken += c.length)).catch((e: unknown) => e);
      // Not vi.waitFor: under fake timers it advances the clock itself.
      await until(() => taken === stallAt, 'the body to reach its stall');
      // The body now stalls for good, short of a second batch: only the delay timer can write the rest.
      vi.advanceTimersByTime(WRITE_DELAY_MS);
      await until(() => statSync(path).size === stallAt, 'the stalled batch on disk');
      b.destroy(new Error('cut'));
      expect(((await run) as Error).message).toBe('cut');
    } finally {
      vi.useRealTimers();
      await handle.close();
    }
    expect(readFileSync(path).equals(data.subarray(0, stallAt))).toBe(true);
  });

  it('rejects, destroying the body, when a write fails (no write left in flight)', async () => {
    const path = join(dir, 'ro');
    writeFileSync(path, '');
    const handle = await open(path, 'r');
    const b = body(data);
    try {
      const err = await receive(b, handle, 0, () => undefined).catch((e: unknown) => e);
      expect((err as NodeJS.ErrnoException).code).toBe('EBADF');
      expect(b.destroyed).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it('rejects with what take throws and writes nothing more', async () => {
    const path = join(dir, 'f');
    const handle = await open(path, 'w');
    let n = 0;
    try {
      const err = await receive(body(data, { chunk: 1000 }), handle, 0, () => {
        if (++n === 5) throw new Error('too much');
        return undefined;
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('too much');
    } finally {
      await handle.close();
    }
    expect(n).toBe(5);
    // Nothing after the refused chunk (whether the four before reached the disk depends on timing).
    const written = readFileSync(path);
    expect(written.length).toBeLessThanOrEqual(4000);
    expect(written.equals(data.subarray(0, written.length))).toBe(true);
  });

  it('rejects at once on an already aborted signal', async () => {
    const handle = await open(join(dir, 'f'), 'w');
    try {
      const b = body(data);
      const err = await receive(b, handle, 0, () => undefined, AbortSignal.abort(new CancelledError('gone'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledError);
      expect(b.destroyed).toBe(true);
    } finally {
      await handle.close();
    }
  });
});
