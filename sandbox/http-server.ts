/**
 * Listening, closing and reading bodies for every sandbox HTTP server, hardened in one place: no
 * request, however malformed, cut or slow, may stop the sandbox or hold a connection forever.
 */
import type { IncomingMessage, Server as HttpServer, RequestListener, ServerOptions, ServerResponse } from 'node:http';
import type { AddressInfo, Server } from 'node:net';

/** What every sandbox HTTP(S) server allows a client. */
export interface ServerLimits {
  /** From connect to the last header byte (slowloris); also the TLS handshake. */
  headersTimeoutMs: number;
  /** A connection silent this long is closed (a stalled body; event streams beat every 15 s). */
  idleTimeoutMs: number;
  /** Longer headers get 431. */
  maxHeaderBytes: number;
}

export const SERVER_LIMITS: ServerLimits = { headersTimeoutMs: 10_000, idleTimeoutMs: 60_000, maxHeaderBytes: 16 * 1024 };

/** `createServer` options. No whole-request limit: a 5 GB upload may take long, a silent client may not. */
export function serverOptions(limits: ServerLimits = SERVER_LIMITS): ServerOptions & { handshakeTimeout: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: 0,
    // Node checks the headers timeout this often (default 30 s, longer than the timeout itself).
    connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 2))),
    maxHeaderSize: limits.maxHeaderBytes,
    handshakeTimeout: limits.headersTimeoutMs,
  };
}

const ignore = () => undefined;

/** Nothing a handler throws, and no error of a gone client, reaches the process: `fail` answers (default 500), or the connection is cut. */
export function guardRequests(
  handle: (req: IncomingMessage, res: ServerResponse) => unknown,
  fail: (req: IncomingMessage, res: ServerResponse, err: unknown) => void = answer500,
): RequestListener {
  return (req, res) => {
    res.on('error', ignore);
    let outcome: unknown;
    try {
      outcome = handle(req, res);
    } catch (err) {
      outcome = Promise.reject(err);
    }
    Promise.resolve(outcome).catch((err: unknown) => {
      // Drain what the client still sends (a body refused early) so it reads the answer.
      req.resume();
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      try {
        fail(req, res, err);
      } catch {
        res.destroy();
      }
    });
  };
}

function answer500(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 22 });
  res.end('internal server error\n');
}

/** Limits that are not createServer options: the idle timeout. Answers the server. */
export function hardenServer<S extends { setTimeout(ms: number): unknown }>(server: S, limits: ServerLimits = SERVER_LIMITS): S {
  // With no 'timeout' listener, Node destroys a socket idle this long.
  server.setTimeout(limits.idleTimeoutMs);
  return server;
}

/** Listens on host:port (0 = any free port) and answers the port bound; a failure goes through `wrap`. */
export function listen(server: Server, host: string, port: number, wrap: (err: Error) => Error = (err) => err): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(wrap(err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops listening and ends every connection, idle or not; settles once the server has closed. */
export function closeServer(server: HttpServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
}

/** Read a request body up to `limit` bytes; undefined when it is longer (the caller answers 413). Rejects when the client goes away first. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before the end of the body'));
    });
  });
}
