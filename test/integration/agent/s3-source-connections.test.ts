/**
 * The agent's S3 connections. A kept-alive connection that the server closes just as the agent reuses it: the GET is tried once
 * more at once (on a new connection), not failed into the download's backoff; once only. The server is node:http on
 * 127.0.0.1 answering GetObject the way S3 does (the SDK signs; the server does not check).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { s3ClientConfig, s3ObjectSource } from '../../../agent/s3-source';
import { sharedRequestHandler } from '../../../agent/s3-clients';
import { DownloadError } from '../../../agent/errors';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
let server: Server | undefined;
let client: S3Client | undefined;

afterEach(async () => {
  client?.destroy();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = client = undefined;
});

/** Answers every GET with `body`, except those `cut` picks (by their number on their connection and overall): reset unanswered. */
async function start(body: string, cut: (onConnection: number, overall: number) => boolean): Promise<{ endpoint: string; connections: () => number; open: () => number; requests: () => number }> {
  const served = new WeakMap<Socket, number>();
  let connections = 0;
  let open = 0;
  let requests = 0;
  server = createServer((req, res) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    if (cut(n, ++requests)) {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body), etag: '"e1"', 'content-type': 'application/octet-stream' });
    res.end(body);
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    open++;
    socket.on('close', () => open--);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, open: () => open, requests: () => requests };
}

const read = async (body: AsyncIterable<Buffer>) => {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks).toString();
};

describe('s3ObjectSource on a connection the server closed', () => {
  it('tries a GET that was cut on a reused connection once more, on a new connection', async () => {
    const s3 = await start('firmware', (onConnection, overall) => onConnection === 2 && overall === 2);
    client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, credentials }));
    const source = s3ObjectSource(client);
    expect(await read((await source({ bucket: 'b', key: 'k' })).body)).toBe('firmware');
    const second = await source({ bucket: 'b', key: 'k' });
    expect(await read(second.body)).toBe('firmware');
    expect({ requests: s3.requests(), connections: s3.connections() }).toEqual({ requests: 3, connections: 2 });
  });

  it('fails as S3_CONNECTION (retryable) when the new connection is cut too', async () => {
    const s3 = await start('firmware', (_onConnection, overall) => overall > 1);
    client = new S3Client(s3ClientConfig({ endpoint: s3.endpoint, credentials }));
    const source = s3ObjectSource(client);
    await read((await source({ bucket: 'b', key: 'k' })).body);
    const err = await source({ bucket: 'b', key: 'k' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err).toMatchObject({ code: 'S3_CONNECTION', retryable: true });
    expect({ requests: s3.requests(), connections: s3.connections() }).toEqual({ requests: 3, connections: 2 });
  });
});

describe('sharedRequestHandler (the agents of one sandbox thread)', () => {
  it("serves many clients from one pool: a client's destroy() leaves it open for the others, close() ends it", async () => {
    const s3 = await start('firmware', () => false);
    const shared = sharedRequestHandler();
    const make = (i: number) => new S3Client(s3ClientConfig({ endpoint: s3.endpoint, credentials: { ...credentials, accessKeyId: `AKID${i}` }, requestHandler: shared.handler }));
    const [a, b] = [make(1), make(2)];
    try {
      expect(await read((await s3ObjectSource(a)({ bucket: 'b', key: 'k' })).body)).toBe('firmware');
      a.destroy();
      expect(await read((await s3ObjectSource(b)({ bucket: 'b', key: 'k' })).body)).toBe('firmware');
      // The second client reused the first one's connection.
      expect({ requests: s3.requests(), connections: s3.connections() }).toEqual({ requests: 2, connections: 1 });
    } finally {
      shared.close();
      b.destroy();
    }
    // Closed: the pool's idle connection is gone.
    await expect.poll(() => s3.open()).toBe(0);
  });
});
