/** The XOR protocol's bytes, pure: the autokey cipher, and TCP frames (u32 BE length, then the payload). */
import { Buffer } from 'node:buffer';

const INITIAL_KEY = 171;
/** Default cap on a reply frame: far above any real reply (an HS300 sysinfo is ~2 KB). */
export const DEFAULT_MAX_FRAME_LENGTH = 1024 * 1024;
const HEADER_LENGTH = 4;

/** Autokey XOR: `c = key ^ p; key = c`, on UTF-8 bytes (never on UTF-16 code units). */
export function encrypt(input: Uint8Array | string): Buffer {
  const plain = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const out = Buffer.allocUnsafe(plain.length);
  let key = INITIAL_KEY;
  for (let i = 0; i < plain.length; i++) {
    key = key ^ plain[i]!;
    out[i] = key;
  }
  return out;
}

/** Inverse of {@link encrypt}: `p = key ^ c; key = c`. */
export function decrypt(input: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let key = INITIAL_KEY;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    out[i] = key ^ c;
    key = c;
  }
  return out;
}

/** A framed, encrypted message. Objects are JSON-serialised; strings are sent as they are. */
export function encodeFrame(message: unknown): Buffer {
  const payload = encrypt(typeof message === 'string' ? message : JSON.stringify(message));
  const header = Buffer.allocUnsafe(HEADER_LENGTH);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

/** Decrypted payloads of frames from chunks in any split; memory bounded by `maxLength` + 4. */
export class FrameDecoder {
  readonly maxLength: number;
  private readonly header = Buffer.alloc(HEADER_LENGTH);
  private headerFill = 0;
  private body: Buffer | undefined;
  private bodyFill = 0;
  private key = INITIAL_KEY;

  /** `maxLength`: a larger declared length is rejected before buffering. */
  constructor(options: { maxLength?: number } = {}) {
    this.maxLength = options.maxLength ?? DEFAULT_MAX_FRAME_LENGTH;
  }

  /** Bytes of an incomplete frame held right now (header included). */
  get bufferedBytes(): number {
    return this.headerFill + this.bodyFill;
  }

  /** Declared length of the frame being read, if its header is complete. */
  get expectedLength(): number | undefined {
    return this.body?.length;
  }

  /** Whether a frame has started but not finished. */
  get inFrame(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  /** Feeds a chunk; returns the decrypted payloads completed by it. Throws a RangeError on a frame above `maxLength` (the codec knows no host: transports wrap it). */
  push(chunk: Uint8Array): Buffer[] {
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === undefined) {
        const take = Math.min(HEADER_LENGTH - this.headerFill, chunk.length - offset);
        this.header.set(chunk.subarray(offset, offset + take), this.headerFill);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < HEADER_LENGTH) break;
        const length = this.header.readUInt32BE(0);
        if (length > this.maxLength) {
          this.reset();
          throw new RangeError(`frame declares ${length} bytes, above the limit of ${this.maxLength}`);
        }
        this.body = Buffer.allocUnsafe(length);
        this.bodyFill = 0;
        this.key = INITIAL_KEY;
      }
      // Decrypt while copying so a completed frame needs no second pass.
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - offset);
      let key = this.key;
      for (let i = 0; i < take; i++) {
        const c = chunk[offset + i]!;
        body[this.bodyFill + i] = key ^ c;
        key = c;
      }
      this.key = key;
      this.bodyFill += take;
      offset += take;
      if (this.bodyFill === body.length) {
        frames.push(body);
        this.body = undefined;
        this.headerFill = 0;
        this.bodyFill = 0;
      }
    }
    return frames;
  }

  /** Drops any partial frame (after an error, or a new connection). */
  reset(): void {
    this.headerFill = 0;
    this.body = undefined;
    this.bodyFill = 0;
    this.key = INITIAL_KEY;
  }
}
