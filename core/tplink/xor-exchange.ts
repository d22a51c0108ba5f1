/**
 * XOR requests over one TCP connection at a time (framed-connection.ts), each within its deadline:
 * connect when there is no open connection, one round trip, the JSON reply, and one fresh connect
 * when a reused connection turns out closed. Who may talk to the device, and when, is the
 * transport's business (xor-tcp-transport.ts: leased and shared; click-xor-transport.ts: one click).
 */
import net from 'node:net';
import { encodeFrame, DEFAULT_MAX_FRAME_LENGTH } from './codec';
import { TplinkProtocolError, TplinkTimeoutError, formatEndpoint, type TplinkEndpoint } from './errors';
import { ClosedBeforeReply, FramedConnection, type FramedConnectionOptions, type SocketFactory } from './framed-connection';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, type TransportTimeouts } from './transport';
import { silentLogger, type Logger } from '../logger';

export interface XorExchangeOptions extends TransportTimeouts {
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  socketFactory?: SocketFactory;
  logger?: Logger;
}

export interface XorExchangeStats {
  /** Connections opened so far. */
  connections: number;
  /** Requests sent, retries included. */
  requests: number;
}

/** What the transport learns from the connection: closes to wait for, an idle close by the device, buffered reply bytes. */
export type XorExchangeHooks = Pick<FramedConnectionOptions, 'trackClose' | 'onIdleClose' | 'onBuffered'>;

const defaultSocketFactory: SocketFactory = ({ host, port }) => net.createConnection({ host, port });

/** Throws a RangeError naming the first option that is not a positive number of milliseconds. */
export function assertPositiveMs(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}

export class XorExchange {
  readonly stats: XorExchangeStats = { connections: 0, requests: 0 };
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly key: string;
  private readonly connectionOptions: FramedConnectionOptions;
  private connection: FramedConnection | undefined;
  /** Aborts the request in flight (its connect) when the transport is closed. */
  private inflight: AbortController | undefined;

  constructor(
    readonly endpoint: TplinkEndpoint,
    options: XorExchangeOptions,
    hooks: XorExchangeHooks,
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    assertPositiveMs({ connectTimeoutMs: this.connectTimeoutMs, requestTimeoutMs: this.requestTimeoutMs });
    this.key = formatEndpoint(endpoint);
    this.connectionOptions = {
      endpoint,
      socketFactory: options.socketFactory ?? defaultSocketFactory,
      maxFrameLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH,
      requestTimeoutMs: this.requestTimeoutMs,
      log: (options.logger ?? silentLogger).child({ device: this.key }),
      ...hooks,
    };
  }

  /** Whether a connection is open now. */
  get open(): boolean {
    return this.connection?.open === true;
  }

  /** One request; one budget for it all, up to `deadline`: connecting and the exchange. */
  async request(request: object, deadline: number): Promise<unknown> {
    // Granted just at the deadline: do not start a connection with no time left to use it.
    if (Date.now() >= deadline) throw new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs);
    const frame = encodeFrame(request);
    const payload = await this.withDeadline(deadline, (signal) => this.exchange(frame, deadline, signal));
    try {
      return JSON.parse(payload.toString('utf8')) as unknown;
    } catch (err) {
      // The frame was fine but its content is not: nothing on this connection can be trusted.
      this.drop();
      throw new TplinkProtocolError(this.endpoint, 'bad-json', `reply of ${payload.length} bytes is not JSON`, err);
    }
  }

  /** Fails the request in flight (its connect) with `reason`. */
  abort(reason: Error): void {
    this.inflight?.abort(reason);
  }

  /** Idle: never keep the process alive for the connection. */
  park(): void {
    this.connection?.park();
  }

  /** Closes the connection (failing a pending round trip); `graceful` lets the device close its side first. */
  drop(graceful = false): void {
    const connection = this.connection;
    this.connection = undefined;
    if (connection) void connection.close(graceful);
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
          this.drop(); // fails the pending round trip, whose rejection is ignored below
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
    const reused = this.open;
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
}
