import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createStreamHash, InlineHash, WorkerHash, WORKER_HASH_MIN_BYTES } from '../../../agent/stream-hash';

const dir = mkdtempSync(join(tmpdir(), 'stream-hash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['InlineHash', () => new InlineHash()],
  ['WorkerHash', () => new WorkerHash(4 * 1024 * 1024)],
])('%s', (_name, make) => {
  it('gives the SHA-256 of a file followed by chunks of any size, across batch boundaries', async () => {
    const head = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, `head-${_name}`);
    writeFileSync(path, head);
    const chunks = [1, 65536, 1 << 20, (1 << 20) - 1, 5, 3 * (1 << 20) + 3, 0, 7].map((n) => randomBytes(n));
    const h = make();
    try {
      expect(await h.hashFile(path)).toBe(head.length);
      for (const c of chunks) await h.update(c);
      expect(await h.digest()).toBe(createHash('sha256').update(head).update(Buffer.concat(chunks)).digest('hex'));
    } finally {
      h.close();
    }
  });

  it('hashes nothing to the empty digest', async () => {
    const h = make();
    expect(await h.digest()).toBe(createHash('sha256').digest('hex'));
    h.close();
  });

  it('rejects reading a partial file that is gone', async () => {
    const h = make();
    await expect(h.hashFile(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    h.close();
  });
});

describe('WorkerHash back-pressure', () => {
  it('asks the caller to wait once more than maxInFlight bytes are queued for the worker, and lets it go on', async () => {
    const h = new WorkerHash(2 * 1024 * 1024);
    const big = randomBytes(8 * 1024 * 1024);
    const wait = h.update(big);
    expect(wait).toBeInstanceOf(Promise);
    await wait;
    expect(await h.digest()).toBe(createHash('sha256').update(big).digest('hex'));
    h.close();
  });

  it('refuses updates after close', async () => {
    const h = new WorkerHash();
    h.close();
    await expect(h.update(Buffer.from('x'))).rejects.toThrow('hash closed');
  });
});

describe('createStreamHash', () => {
  it('uses the worker only for objects large enough to pay for a thread, on machines with CPUs to spare', () => {
    const small = createStreamHash(WORKER_HASH_MIN_BYTES - 1);
    const large = createStreamHash(WORKER_HASH_MIN_BYTES);
    expect(small).toBeInstanceOf(InlineHash);
    expect(large).toBeInstanceOf(availableParallelism() > 2 ? WorkerHash : InlineHash);
    expect(createStreamHash(undefined)).toBeInstanceOf(InlineHash);
    const forced = createStreamHash(1, 'worker');
    expect(forced).toBeInstanceOf(WorkerHash);
    expect(createStreamHash(1 << 30, 'inline')).toBeInstanceOf(InlineHash);
    for (const h of [small, large, forced]) h.close();
  });
});
