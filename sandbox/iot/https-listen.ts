/** What the sandbox's HTTPS APIs share: typed listen errors, a close that ends every connection, JSON answers, paging. */
import type { Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { hardenServer, listen } from '../http-server';
import { iotCoreListenError } from './errors';

export async function listenHttps(server: Server, what: string, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  hardenServer(server);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const bound = await listen(server, host, port, (err) => iotCoreListenError(what, host, port, err));
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        // Connections still in the TLS handshake are not known to the HTTP layer.
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

/** decodeURIComponent that answers undefined for a malformed escape instead of throwing. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A JSON answer; `errorType` goes in `x-amzn-errortype`, where the AWS SDK reads it. */
export function sendJson(res: ServerResponse, status: number, body: object, errorType?: string): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(data);
}

/** The page of `items` that `nextToken` (its start, base64url) and `size` (1 to `max`) ask for; undefined when either is invalid. */
export function page<T>(items: T[], size: number, max: number, nextToken: string | null): { items: T[]; nextToken?: string } | undefined {
  const start = nextToken ? Number(Buffer.from(nextToken, 'base64url').toString()) : 0;
  if (!Number.isInteger(size) || size < 1 || size > max || !Number.isInteger(start) || start < 0) return undefined;
  const end = start + size;
  return { items: items.slice(start, end), ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}) };
}
