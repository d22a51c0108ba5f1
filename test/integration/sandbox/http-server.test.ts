/**
 * The hardening every sandbox HTTP(S) server shares (sandbox/http-server.ts), with short limits
 * so the timeouts can be watched: a stalled body is cut, a stalled header gets 408, and a handler
 * that throws answers 500 while the server goes on.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, guardRequests, hardenServer, listen, readBody, serverOptions, type ServerLimits } from '../../../sandbox/http-server';

const LIMITS: ServerLimits = { headersTimeoutMs: 200, idleTimeoutMs: 60_000, maxHeaderBytes: 1024 };
const SHORT_IDLE: ServerLimits = { ...LIMITS, headersTimeoutMs: 60_000, idleTimeoutMs: 300 };

/** Everything the server sent until it closed the connection. */
function answerUntilClosed(socket: Socket): Promise<string> {
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(text)));
}

describe('the shared hardening of the sandbox HTTP servers', () => {
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await closeServer(server);
    server = undefined;
  });

  async function start(handler: Parameters<typeof guardRequests>[0], limits = LIMITS): Promise<number> {
    server = hardenServer(createServer(serverOptions(limits), guardRequests(handler)), limits);
    return listen(server, '127.0.0.1', 0);
  }

  it('answers 408 and closes a connection whose headers do not finish within the headers timeout', async () => {
    const port = await start((_req, res) => res.end('ok'));
    const socket = connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    expect(await answerUntilClosed(socket)).toMatch(/^HTTP\/1\.1 408/);
  });

  it('closes a connection whose body stops arriving for longer than the idle timeout', async () => {
    let failed!: (err: unknown) => void;
    const failure = new Promise<unknown>((resolve) => (failed = resolve));
    const port = await start(async (req, res) => {
      try {
        await readBody(req, 1_000_000);
      } catch (err) {
        failed(err);
        throw err;
      }
      res.end('ok');
    }, SHORT_IDLE);
    const socket = connect(port, '127.0.0.1');
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc');
    expect(await answerUntilClosed(socket)).toBe('');
    expect(String(await failure)).toMatch(/aborted|closed/);
  });

  it('answers 431 to headers longer than the limit', async () => {
    const port = await start((_req, res) => res.end('ok'));
    const socket = connect(port, '127.0.0.1');
    socket.end(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`);
    expect(await answerUntilClosed(socket)).toMatch(/^HTTP\/1\.1 431/);
  });

  it('answers 500 when a handler throws or rejects, and serves the next request', async () => {
    const port = await start((req, res) => {
      if (req.url === '/throw') throw new Error('sync defect');
      if (req.url === '/reject') return Promise.reject(new Error('async defect'));
      res.end('ok');
    });
    for (const path of ['/throw', '/reject']) expect((await fetch(`http://127.0.0.1:${port}${path}`)).status).toBe(500);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
  });
});
