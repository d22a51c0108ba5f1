/**
 * Our HTTP/1.1 client for KLAP/AES devices against node:http's server (written by others) on
 * 127.0.0.1: the reply framings a device may use, connection reuse, and the device closing it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectionReset, TplinkConnectionRefusedError, TplinkTimeoutError, type TplinkEndpoint } from '../../../core/tplink/errors';
import { DeviceConnection, httpPost } from '../../../core/tplink/http-post';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

const open: { close(): void }[] = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

async function server(handler: Handler, host = '127.0.0.1'): Promise<{ endpoint: TplinkEndpoint; server: http.Server; connections: () => number }> {
  let connections = 0;
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  s.on('connection', () => connections++);
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  open.push({ close: () => (s.closeAllConnections(), s.close()) });
  return { endpoint: { host, port: (s.address() as AddressInfo).port }, server: s, connections: () => connections };
}

function connection(): DeviceConnection {
  const c = new DeviceConnection();
  open.push(c);
  return c;
}

function post(c: DeviceConnection, endpoint: TplinkEndpoint, body = 'ping', timeoutMs = 5000, owner?: object) {
  const deadline = Date.now() + timeoutMs;
  return httpPost({ endpoint, path: '/app/request?seq=1', body, headers: { Cookie: 'TP_SESSIONID=AB' }, connection: c, deadline, maxBodyBytes: 1024, requestTimeoutMs: timeoutMs, owner });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('DeviceConnection (HTTP/1.1 to a device)', () => {
  it('sends path, headers and body, and reads status, body and every cookie', async () => {
    const { endpoint } = await server((req, body, res) => {
      res.setHeader('Set-Cookie', ['TP_SESSIONID=XY;TIMEOUT=1440', 'other=1']);
      res.end(JSON.stringify({ url: req.url, cookie: req.headers.cookie, host: req.headers.host, body: body.toString() }));
    });
    const reply = await post(connection(), endpoint);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString())).toEqual({ url: '/app/request?seq=1', cookie: 'TP_SESSIONID=AB', host: `127.0.0.1:${endpoint.port}`, body: 'ping' });
    expect(reply.cookies.get('TP_SESSIONID')).toBe('XY');
    expect(reply.cookies.get('TIMEOUT')).toBe('1440');
    expect(reply.cookies.get('other')).toBe('1');
  });

  it('writes an IPv6 device address in brackets in the Host header', async () => {
    const { endpoint } = await server((req, _body, res) => res.end(req.headers.host), '::1');
    const reply = await post(connection(), endpoint);
    expect(reply.body.toString()).toBe(`[::1]:${endpoint.port}`);
  });

  it('reads a chunked reply (no Content-Length) and keeps the connection for the next request', async () => {
    const s = await server((_req, _body, res) => {
      res.write('hel');
      setImmediate(() => res.end('lo'));
    });
    const c = connection();
    expect((await post(c, s.endpoint)).body.toString()).toBe('hello');
    expect((await post(c, s.endpoint)).body.toString()).toBe('hello');
    expect(s.connections()).toBe(1);
  });

  it('opens a new connection after the device closed the kept one, or said it would', async () => {
    const s = await server((req, _body, res) => {
      if (req.headers.cookie === 'close') res.setHeader('Connection', 'close');
      res.end('ok');
    });
    const c = connection();
    await post(c, s.endpoint);
    s.server.closeIdleConnections();
    await until(() => !c.open, 'the client to see the close');
    expect((await post(c, s.endpoint)).body.toString()).toBe('ok');
    expect(s.connections()).toBe(2);
    await httpPost({ endpoint: s.endpoint, path: '/', body: '', headers: { cookie: 'close' }, connection: c, deadline: Date.now() + 5000, maxBodyBytes: 10, requestTimeoutMs: 5000 });
    expect(c.open).toBe(false);
    await post(c, s.endpoint);
    expect(s.connections()).toBe(3);
  });

  it('refuses a header value with a line break (a cookie the device set) without sending anything', async () => {
    const s = await server((_req, _body, res) => res.end('ok'));
    const sent = httpPost({
      endpoint: s.endpoint,
      path: '/app',
      body: '',
      headers: { Cookie: 'TP_SESSIONID=AB\r\nX-Injected: 1' },
      connection: connection(),
      deadline: Date.now() + 5000,
      maxBodyBytes: 10,
      requestTimeoutMs: 5000,
    });
    await expect(sent).rejects.toMatchObject({ reason: 'unexpected-reply', message: expect.stringMatching(/Cookie would contain a line break/) });
    expect(s.connections()).toBe(0);
  });

  it('fails with a request timeout naming the device at its deadline when the device stays silent, and the connection is not reused', async () => {
    const s = await server(() => undefined);
    const c = connection();
    const err = await post(c, s.endpoint, 'x', 50).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkTimeoutError);
    expect(err).toMatchObject({ phase: 'request', message: expect.stringContaining(`127.0.0.1:${s.endpoint.port}`) });
    expect(c.open).toBe(false);
    await expect(post(c, s.endpoint, 'y', -1)).rejects.toBeInstanceOf(TplinkTimeoutError);
    expect(s.connections()).toBe(1);
  });

  it("fails only its owner's posts, in flight and queued, when cancelled, with the reason given", async () => {
    const { endpoint } = await server(() => undefined);
    const c = connection();
    const owner = {};
    const pending = post(c, endpoint, 'x', 5000, owner);
    await until(() => c.open, 'the connection to open');
    const reason = connectionReset(endpoint, 'transport is closed');
    c.cancel({}, connectionReset(endpoint, 'someone else'));
    const queued = post(c, endpoint, 'z', 5000, owner);
    c.cancel(owner, reason);
    await expect(pending).rejects.toBe(reason);
    await expect(queued).rejects.toBe(reason);
  });

  it('names the device when it refuses the connection', async () => {
    const s = await server(() => undefined);
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
    const err = await post(connection(), s.endpoint).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkConnectionRefusedError);
    expect((err as Error).message).toContain(`127.0.0.1:${s.endpoint.port}`);
  });
});
