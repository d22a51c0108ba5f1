/**
 * A TCP proxy on 127.0.0.1 for fault tests: counts the bytes each way, records what the client
 * sent (to see Range headers), can hold the server's stream at an exact byte count (so "mid
 * download" is deterministic, not timing luck), release it, and cut every connection.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Bytes from server to client, all connections together. */
  readonly downstreamBytes: number;
  /** Everything clients sent, as text (HTTP request heads are readable in it). */
  readonly upstreamText: string;
  readonly connections: number;
  /** Connections closed at once because of `refuse(true)`. */
  readonly refused: number;
  /** Stop forwarding server→client once `downstreamBytes` reaches `bytes`; resolves when reached. */
  holdAt(bytes: number): Promise<void>;
  /** Forward again whatever was held. */
  release(): void;
  /** Destroy every open connection (both sides). */
  cutAll(): void;
  /** While true, every new connection is closed as soon as it is accepted (the server is unreachable). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  let down = 0;
  let upText = '';
  let count = 0;
  let refusedCount = 0;
  let holdAtBytes = Infinity;
  let onHeld: (() => void) | undefined;
  let refusing = false;
  const pairs = new Set<{ client: Socket; server: Socket; pending: Buffer[] }>();

  const server: Server = createServer((client) => {
    if (refusing) {
      refusedCount++;
      client.destroy();
      return;
    }
    count++;
    const upstream = connect(targetPort, targetHost);
    const pair = { client, server: upstream, pending: [] as Buffer[] };
    pairs.add(pair);
    client.on('data', (d: Buffer) => {
      upText += d.toString('latin1');
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => forward(pair, d));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', () => {
      // Let held data go out first when the server closes normally.
      if (pair.pending.length === 0) end();
    });
    client.on('error', end);
    upstream.on('error', end);
  });

  function forward(pair: { client: Socket; server: Socket; pending: Buffer[] }, d: Buffer): void {
    if (pair.pending.length > 0 || down >= holdAtBytes) {
      pair.pending.push(d);
      pair.server.pause();
      return;
    }
    const room = holdAtBytes - down;
    if (d.length <= room) {
      down += d.length;
      pair.client.write(d);
      if (down >= holdAtBytes) held();
      return;
    }
    down += room;
    pair.client.write(d.subarray(0, room));
    pair.pending.push(d.subarray(room));
    pair.server.pause();
    held();
  }

  function held(): void {
    const f = onHeld;
    onHeld = undefined;
    f?.();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    get downstreamBytes() {
      return down;
    },
    get upstreamText() {
      return upText;
    },
    get connections() {
      return count;
    },
    get refused() {
      return refusedCount;
    },
    holdAt(bytes) {
      holdAtBytes = bytes;
      return new Promise<void>((resolve) => {
        if (down >= bytes) resolve();
        else onHeld = resolve;
      });
    },
    release() {
      holdAtBytes = Infinity;
      for (const pair of pairs) {
        const pending = pair.pending.splice(0);
        for (const d of pending) {
          down += d.length;
          pair.client.write(d);
        }
        if (pair.server.destroyed) pair.client.end();
        else pair.server.resume();
      }
    },
    cutAll() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      pairs.clear();
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.server.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
