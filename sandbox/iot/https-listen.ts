/** Listening and closing for the sandbox's HTTPS servers: typed listen errors, close that ends every connection. */
import type { Server } from 'node:https';
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
