/**
 * A small TCP proxy on 127.0.0.1 that limits every connection, each direction, to a fixed rate:
 * the stand-in for "one connection to S3 is slow" in the object-hash benchmark. A token bucket
 * per connection and direction (burst: one 64 KiB chunk), with the receiver's backpressure respected.
 * Written here because it is ~50 lines and no maintained package does per-connection TCP pacing.
 */
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ThrottleProxy {
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Forward `from` → `to` at no more than `bytesPerSecond` (token bucket, burst of one 64 KiB read).
 * Pausing the source socket directly, rather than a Transform in a pipeline, keeps the proxy's own
 * CPU cost low: the benchmark measures the reader, not the proxy.
 */
function pace(from: Socket, to: Socket, bytesPerSecond: number, burst = 64 * 1024): void {
  let tokens = burst;
  let last = performance.now();
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * bytesPerSecond);
    last = now;
    tokens -= chunk.length;
    const flushed = to.write(chunk);
    if (tokens >= 0 && flushed) return;
    from.pause();
    const resume = () => (to.writableNeedDrain ? to.once('drain', () => from.resume()) : from.resume());
    if (tokens < 0) setTimeout(resume, (-tokens / bytesPerSecond) * 1000);
    else to.once('drain', () => from.resume());
  });
  from.on('end', () => to.end());
}

export async function startThrottleProxy(options: { targetHost: string; targetPort: number; bytesPerSecond: number; host?: string }): Promise<ThrottleProxy> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(options.targetPort, options.targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) s.on('error', end).on('close', end);
    pace(upstream, client, options.bytesPerSecond);
    pace(client, upstream, options.bytesPerSecond);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
