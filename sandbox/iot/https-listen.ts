/** Listening and closing for the sandbox's HTTPS servers: typed listen errors, close that ends every connection. */
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import { listen } from '../listen';
import { IotCoreListenError } from './errors';

export async function listenHttps(server: Server, what: string, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const bound = await listen(server, host, port, (err) => new IotCoreListenError(what, host, port, err));
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

/** Read a request body up to `limit` bytes; undefined when it is longer (the caller answers 413). */
export function readBody(req: NodeJS.ReadableStream, limit: number): Promise<Buffer | undefined> {
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
  });
}

/** decodeURIComponent that answers undefined for a malformed escape instead of throwing. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
