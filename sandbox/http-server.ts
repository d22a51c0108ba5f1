/** Listening, closing and reading request bodies, the same for every HTTP server the sandbox runs. */
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';

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
