/**
 * SHA-256 of a download, fed chunk by chunk on the calling thread (node:crypto), plus the bytes
 * of a partial file being resumed. node's Hash cannot be saved, so a resume re-hashes from disk.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export class StreamHash {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  /** Add the whole content of a file; resolves with its size. `signal` stops a long re-hash. */
  async hashFile(path: string, signal?: AbortSignal): Promise<number> {
    let bytes = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, ...(signal ? { signal } : {}) })) {
      this.hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return bytes;
  }

  /** Lower-case hex digest of everything added. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
