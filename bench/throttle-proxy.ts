/**
 * A small TCP proxy on 127.0.0.1 that limits every connection, each direction, to a fixed rate:
 * the stand-in for "one connection to S3 is slow" in the object-hash benchmark. A token bucket
 * per connection and direction (burst: one 64 KiB chunk); backpressure comes from `pipeline`.
 * Written here because it is ~50 lines and no maintained package does per-connection TCP pacing.
 */
import { createServer, connect, type Socket } from 'node:net';
import { Transform, pipeline } from 'node:stream';
import type { AddressInfo } from 'node:net';

export interface ThrottleProxy {
  host: string;
  port: number;
  close(): Promise<void>;
}

class Pacer extends Transform {
  private tokens: number;
  private last = performance.now();

  constructor(
    private readonly bytesPerSecond: number,
    private readonly burst = 64 * 1024,
  ) {
    super();
    this.tokens = burst;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err: Error | null, data?: Buffer) => void): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
    this.tokens -= chunk.length;
    if (this.tokens >= 0) return done(null, chunk);
    setTimeout(() => done(null, chunk), (-this.tokens / this.bytesPerSecond) * 1000);
  }
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
    pipeline(upstream, new Pacer(options.bytesPerSecond), client, end);
    pipeline(client, new Pacer(options.bytesPerSecond), upstream, end);
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
