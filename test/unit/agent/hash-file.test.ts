import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../../agent/partial-store';

const dir = mkdtempSync(join(tmpdir(), 'hash-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hashFile (re-hashing a partial file before the rest of the download)', () => {
  it('gives the SHA-256 of a file followed by chunks of any size', async () => {
    const head = randomBytes(3 * 1024 * 1024 + 17);
    const path = join(dir, 'head');
    writeFileSync(path, head);
    const chunks = [1, 65536, 1 << 20, (1 << 20) - 1, 5, 0, 7].map((n) => randomBytes(n));
    const h = createHash('sha256');
    expect(await hashFile(h, path)).toBe(head.length);
    for (const c of chunks) h.update(c);
    expect(h.digest('hex')).toBe(createHash('sha256').update(head).update(Buffer.concat(chunks)).digest('hex'));
  });

  it('adds nothing for an empty partial file', async () => {
    const path = join(dir, 'empty');
    writeFileSync(path, '');
    const h = createHash('sha256');
    expect(await hashFile(h, path)).toBe(0);
    expect(h.digest('hex')).toBe(createHash('sha256').digest('hex'));
  });

  it('rejects reading a partial file that is gone', async () => {
    await expect(hashFile(createHash('sha256'), join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops re-hashing a file when the signal aborts', async () => {
    const path = join(dir, 'long');
    writeFileSync(path, randomBytes(4 * 1024 * 1024));
    await expect(hashFile(createHash('sha256'), path, AbortSignal.abort(new Error('stop')))).rejects.toThrow();
  });
});
