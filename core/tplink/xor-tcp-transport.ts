/**
 * The classic transport: autokey-XOR frames over TCP port 9999. One connection at a time per
 * device (the lease, see lease-holder.ts), reused for consecutive requests while the device keeps
 * it open, and re-opened once, transparently, when a reused connection turns out to be closed.
 */
import net from 'node:net';
import { encodeFrame, DEFAULT_MAX_FRAME_LENGTH } from './codec';
import { deviceLocks as defaultLocks, type DeviceLocks } from './device-lock';
import {
  TplinkProtocolError,
  TplinkTimeoutError,
  formatEndpoint,
  type TplinkEndpoint,
} from './errors';
import { ClosedBeforeReply, FramedConnection, type FramedConnectionOptions, type SocketFactory } from './framed-connection';
import { LeaseHolder } from './lease-holder';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Transport,
  type TransportTimeouts,
} from './transport';
import { silentLogger, type Logger } from '../logger';

export type { SocketFactory } from './framed-connection';
export { mapSocketError } from './socket-errors';

export interface XorTcpTransportOptions extends TransportTimeouts {
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  /** An idle connection is closed after this long (default 10 s). */
  idleTimeoutMs?: number;
  socketFactory?: SocketFactory;
  /** The per-device lock registry (default: the process-wide one). */
  locks?: DeviceLocks;
  logger?: Logger;
}

export interface XorTcpTransportStats {
  /** Connections opened so far. */
  connections: number;
  /** Requests sent, retries included. */
  requests: number;
  /** Most bytes of an incomplete reply frame ever held at once. */
  peakBufferedBytes: number;
}

const defaultSocketFactory: SocketFactory = ({ host, port }) => net.createConnection({ host, port });

export class XorTcpTransport implements Transport {
  readonly endpoint: TplinkEndpoint;
  readonly stats: XorTcpTransportStats = { connections: 0, requests: 0, peakBufferedBytes: 0 };
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly connectionOptions: FramedConnectionOptions;
  private readonly holder: LeaseHolder;

  private connection: FramedConnection | undefined;
  /** Aborts the request in flight (its connect) when the transport is closed. */
  private inflight: AbortController | undefined;

  constructor(endpoint: TplinkEndpoint, options: XorTcpTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    for (const [name, value] of Object.entries({
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      idleTimeoutMs,
    })) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
    }
    const key = formatEndpoint(this.endpoint);
    this.holder = new LeaseHolder({
      locks: options.locks ?? defaultLocks,
      key,
      endpoint: this.endpoint,
      requestTimeoutMs: this.requestTimeoutMs,
      idleTimeoutMs,
      connection: {
        isOpen: () => this.connection?.open === true,
        park: () => this.connection?.park(),
        drop: () => this.dropConnection(true),
      },
    });
    this.connectionOptions = {
      endpoint: this.endpoint,
      socketFactory: options.socketFactory ?? defaultSocketFactory,
      maxFrameLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      requestTimeoutMs: this.requestTimeoutMs,
      log: (options.logger ?? silentLogger).child({ device: key }),
      trackClose: (closed) => this.holder.trackClose(closed),
      onIdleClose: () => this.holder.afterUse(),
      onBuffered: (bytes) => {
        if (bytes > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = bytes;
      },
    };
  }

  send(request: object): Promise<unknown> {
    return this.holder.inTurn((deadline) => this.sendNow(request, deadline));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    // The session waits for the device at most one request timeout.
    return this.holder.within(fn);
  }

  async close(): Promise<void> {
    // Callers waiting for the device, and a connect in progress, fail now rather than at their timeout.
    const closedError = this.inflight ? this.holder.closedError() : undefined;
    this.inflight?.abort(closedError);
    await this.holder.close(closedError);
  }

  /** One request, the device held; one budget for it all: waiting for the device, connecting, the exchange. */
  private async sendNow(request: object, deadline: number): Promise<unknown> {
    // Granted just at the deadline: do not start a connection with no time left to use it.
    if (Date.now() >= deadline) throw new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs);
    const frame = encodeFrame(request);
    const payload = await this.withDeadline(deadline, (signal) => this.exchange(frame, deadline, signal));
    try {
      return JSON.parse(payload.toString('utf8')) as unknown;
    } catch (err) {
      // The frame was fine but its content is not: nothing on this connection can be trusted.
      this.dropConnection();
      throw new TplinkProtocolError(this.endpoint, 'bad-json', `reply of ${payload.length} bytes is not JSON`, err);
    }
  }

  /** Runs `fn` and fails with a request timeout when it is not done by `deadline`. */
  private withDeadline<T>(deadline: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    this.inflight = abort;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          const err = new TplinkTimeoutError(this.endpoint, 'request', this.requestTimeoutMs);
          abort.abort(err); // stops a connect in progress
          this.dropConnection(); // fails the pending round trip, whose rejection is ignored below
          reject(err);
        },
        Math.max(1, deadline - Date.now()),
      );
      const settle = () => {
        clearTimeout(timer);
        if (this.inflight === abort) this.inflight = undefined;
      };
      fn(abort.signal).then(
        (value) => {
          settle();
          resolve(value);
        },
        (err: unknown) => {
          settle();
          reject(err);
        },
      );
    });
  }

  private async exchange(frame: Buffer, deadline: number, signal: AbortSignal): Promise<Buffer> {
    const reused = this.connection?.open === true;
    if (!reused) await this.connect(deadline, signal);
    try {
      return await this.roundTrip(frame);
    } catch (err) {
      if (!(reused && err instanceof ClosedBeforeReply) || Date.now() >= deadline) throw err;
      // The device closed the kept connection (some firmware closes after every reply): once more, fresh.
      this.connectionOptions.log.debug('connection was closed by the device; reconnecting once');
      await this.connect(deadline, signal);
      return await this.roundTrip(frame);
    }
  }

  private async connect(deadline: number, signal: AbortSignal): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.connectTimeoutMs, deadline - Date.now()));
    this.stats.connections++;
    this.connection = await FramedConnection.open(this.connectionOptions, timeoutMs, signal);
  }

  private roundTrip(frame: Buffer): Promise<Buffer> {
    const connection = this.connection;
    if (connection === undefined) {
      return Promise.reject(new ClosedBeforeReply(this.endpoint, 'connection closed before the request'));
    }
    this.stats.requests++;
    return connection.roundTrip(frame);
  }

  private dropConnection(graceful = false): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) void connection.close(graceful);
  }
}
