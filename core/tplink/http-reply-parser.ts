/**
 * Reads one HTTP/1.1 reply from the bytes a device sends, as they arrive (pure: no socket). Bodies
 * by Content-Length, chunked, or up to the close; head and body bounded.
 */

export interface ParsedReply {
  status: number;
  /** Header names lower-cased; repeated headers (Set-Cookie) keep every value. */
  headers: Map<string, string[]>;
  body: Buffer;
  /** Whether the connection may carry another request. */
  keepAlive: boolean;
}

/** What was wrong with the reply; `oversize` when a limit was passed. */
export class HttpReplyError extends Error {
  constructor(
    readonly reason: 'oversize' | 'malformed' | 'cut-short',
    message: string,
  ) {
    super(message);
    this.name = 'HttpReplyError';
  }
}

const MAX_HEAD_BYTES = 16 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; chunkLeft: number | undefined }
  | { kind: 'trailers' }
  | { kind: 'close' };

const EMPTY = Buffer.alloc(0);

export class HttpReplyParser {
  private pending: Buffer = EMPTY;
  private head: { status: number; headers: Map<string, string[]>; keepAlive: boolean } | undefined;
  private framing: Framing | undefined;
  private readonly body: Buffer[] = [];
  private bodyLength = 0;
  private finished = false;

  constructor(private readonly maxBodyBytes: number) {}

  /** Takes the next bytes; the reply once it is complete. Throws HttpReplyError. */
  push(chunk: Buffer): ParsedReply | undefined {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (!this.head && !this.readHead()) return undefined;
    return this.readBody();
  }

  /** The device closed the connection: the reply if the close completes it. Throws HttpReplyError. */
  end(): ParsedReply {
    if (this.head && this.framing?.kind === 'close') return this.complete(false);
    throw new HttpReplyError('cut-short', `reply cut short after ${this.bodyLength} bytes`);
  }

  private readHead(): boolean {
    const end = this.pending.indexOf(HEAD_END);
    if (end < 0) {
      if (this.pending.length > MAX_HEAD_BYTES) throw new HttpReplyError('oversize', `reply head exceeds ${MAX_HEAD_BYTES} bytes`);
      return false;
    }
    const lines = this.pending.subarray(0, end).toString('latin1').split('\r\n');
    this.pending = this.pending.subarray(end + HEAD_END.length);
    const statusLine = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0] ?? '');
    if (!statusLine) throw new HttpReplyError('malformed', `reply does not start with an HTTP/1.x status line`);
    const headers = new Map<string, string[]>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new HttpReplyError('malformed', 'reply has a header line without a name');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const values = headers.get(name);
      if (values) values.push(value);
      else headers.set(name, [value]);
    }
    const connection = (headers.get('connection') ?? []).join(',').toLowerCase();
    const keepAlive = statusLine[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive');
    this.head = { status: Number(statusLine[2]), headers, keepAlive };
    this.framing = this.framingOf(headers, this.head.status);
    return true;
  }

  private framingOf(headers: Map<string, string[]>, status: number): Framing {
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) return { kind: 'length', remaining: 0 };
    if ((headers.get('transfer-encoding') ?? []).join(',').toLowerCase().includes('chunked')) return { kind: 'chunked', chunkLeft: undefined };
    const lengths = headers.get('content-length');
    if (lengths === undefined) return { kind: 'close' };
    const declared = Number(lengths[0]);
    if (!Number.isInteger(declared) || declared < 0 || lengths.some((l) => l !== lengths[0])) {
      throw new HttpReplyError('malformed', `reply declares an unusable Content-Length ${lengths.join(', ')}`);
    }
    if (declared > this.maxBodyBytes) throw new HttpReplyError('oversize', `reply body declares ${declared} bytes, over the limit of ${this.maxBodyBytes} bytes`);
    return { kind: 'length', remaining: declared };
  }

  private readBody(): ParsedReply | undefined {
    const framing = this.framing!;
    if (framing.kind === 'length') {
      const take = Math.min(framing.remaining, this.pending.length);
      this.addBody(this.pending.subarray(0, take));
      this.pending = this.pending.subarray(take);
      framing.remaining -= take;
      return framing.remaining === 0 ? this.complete(this.head!.keepAlive) : undefined;
    }
    if (framing.kind === 'close') {
      this.addBody(this.pending);
      this.pending = EMPTY;
      return undefined;
    }
    if (framing.kind === 'trailers') return this.readTrailers();
    return this.readChunks(framing);
  }

  private readChunks(framing: { chunkLeft: number | undefined }): ParsedReply | undefined {
    for (;;) {
      if (framing.chunkLeft === undefined) {
        const eol = this.pending.indexOf(CRLF);
        if (eol < 0) return undefined;
        const size = parseInt(this.pending.subarray(0, eol).toString('latin1').split(';')[0]!.trim(), 16);
        if (!Number.isInteger(size) || size < 0) throw new HttpReplyError('malformed', 'reply has an unreadable chunk size');
        this.pending = this.pending.subarray(eol + CRLF.length);
        if (size === 0) {
          this.framing = { kind: 'trailers' };
          return this.readTrailers();
        }
        framing.chunkLeft = size;
      }
      // The chunk's data and the CRLF after it.
      if (this.pending.length < framing.chunkLeft + CRLF.length) return undefined;
      this.addBody(this.pending.subarray(0, framing.chunkLeft));
      this.pending = this.pending.subarray(framing.chunkLeft + CRLF.length);
      framing.chunkLeft = undefined;
    }
  }

  /** After the last chunk: trailer lines, if any, up to an empty line. */
  private readTrailers(): ParsedReply | undefined {
    if (this.pending.length < CRLF.length) return undefined;
    if (this.pending.subarray(0, CRLF.length).equals(CRLF)) {
      this.pending = this.pending.subarray(CRLF.length);
      return this.complete(this.head!.keepAlive);
    }
    const end = this.pending.indexOf(HEAD_END);
    if (end < 0) return undefined;
    this.pending = this.pending.subarray(end + HEAD_END.length);
    return this.complete(this.head!.keepAlive);
  }

  private addBody(part: Buffer): void {
    if (part.length === 0) return;
    this.bodyLength += part.length;
    if (this.bodyLength > this.maxBodyBytes) {
      throw new HttpReplyError('oversize', `reply body exceeds the limit of ${this.maxBodyBytes} bytes`);
    }
    this.body.push(Buffer.from(part));
  }

  private complete(keepAlive: boolean): ParsedReply {
    if (this.finished) throw new HttpReplyError('malformed', 'reply already complete');
    this.finished = true;
    const { status, headers } = this.head!;
    // Bytes after the reply mean the device does not follow one reply per request: do not reuse.
    const clean = this.pending.length === 0;
    return { status, headers, body: Buffer.concat(this.body, this.bodyLength), keepAlive: keepAlive && clean };
  }
}
