import { describe, expect, it } from 'vitest';
import { HttpReplyError, HttpReplyParser, type ParsedReply } from '../../../core/tplink/http-reply-parser';

const bytes = (text: string) => Buffer.from(text, 'latin1');

/** Feeds `wire` in pieces of `size` bytes; the reply once complete (only once). */
function feed(wire: Buffer, size: number, max = 1024): ParsedReply | undefined {
  const parser = new HttpReplyParser(max);
  let reply: ParsedReply | undefined;
  for (let at = 0; at < wire.length; at += size) {
    const got = parser.push(wire.subarray(at, at + size));
    if (got) {
      expect(reply).toBeUndefined();
      reply = got;
    }
  }
  return reply;
}

const LENGTH = bytes('HTTP/1.1 200 OK\r\nSet-Cookie: TP_SESSIONID=AB;TIMEOUT=86400\r\nContent-Length: 5\r\n\r\nhello');
const CHUNKED = bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: y\r\n\r\n');

describe('HttpReplyParser', () => {
  it('reads a Content-Length reply split at every possible byte', () => {
    for (let size = 1; size <= LENGTH.length; size++) {
      const reply = feed(LENGTH, size)!;
      expect(reply.status).toBe(200);
      expect(reply.body.toString()).toBe('hello');
      expect(reply.headers.get('set-cookie')).toEqual(['TP_SESSIONID=AB;TIMEOUT=86400']);
      expect(reply.keepAlive).toBe(true);
    }
  });

  it('reads a chunked reply with extensions and trailers split at every possible byte', () => {
    for (let size = 1; size <= CHUNKED.length; size++) {
      const reply = feed(CHUNKED, size)!;
      expect(reply.body.toString()).toBe('hello');
      expect(reply.keepAlive).toBe(true);
    }
  });

  it('keeps every value of a repeated header', () => {
    const reply = feed(bytes('HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n'), 7)!;
    expect(reply.headers.get('set-cookie')).toEqual(['a=1', 'b=2']);
  });

  it('reads a body without length up to the close, and does not reuse that connection', () => {
    const parser = new HttpReplyParser(1024);
    expect(parser.push(bytes('HTTP/1.1 200 OK\r\n\r\nhel'))).toBeUndefined();
    expect(parser.push(bytes('lo'))).toBeUndefined();
    const reply = parser.end();
    expect(reply.body.toString()).toBe('hello');
    expect(reply.keepAlive).toBe(false);
  });

  it('does not reuse a connection the device says it closes, nor one with bytes after the reply', () => {
    expect(feed(bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'), 100)!.keepAlive).toBe(false);
    expect(feed(bytes('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), 100)!.keepAlive).toBe(false);
    expect(new HttpReplyParser(100).push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxy'))!.keepAlive).toBe(false);
  });

  it('says a reply cut short by the close is cut short, with the bytes it got', () => {
    const parser = new HttpReplyParser(1024);
    parser.push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(() => parser.end()).toThrow(/cut short after 3 bytes/);
    expect(() => new HttpReplyParser(1024).end()).toThrow(HttpReplyError);
  });

  it('refuses a declared body over the limit before reading it, and a chunked one once it passes the limit', () => {
    expect(() => new HttpReplyParser(4).push(bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'))).toThrow(
      expect.objectContaining({ reason: 'oversize', message: expect.stringMatching(/limit of 4 bytes/) }),
    );
    expect(() => feed(CHUNKED, 1, 4)).toThrow(expect.objectContaining({ reason: 'oversize' }));
    expect(() => new HttpReplyParser(4).push(Buffer.alloc(17 * 1024, 0x41))).toThrow(expect.objectContaining({ reason: 'oversize' }));
  });

  it('refuses what is not an HTTP/1.x reply', () => {
    expect(() => new HttpReplyParser(4).push(bytes('SSH-2.0-x\r\n\r\n'))).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(() => new HttpReplyParser(4).push(bytes('HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n'))).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(() => feed(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 100)).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });
});
