/**
 * What KLAP and AES transports share: requests serialised per transport, the device lease (one
 * client per device in this process, see lease-holder.ts), one time budget per request covering
 * handshake and exchange, a kept-alive HTTP connection, and sessions cached per device in a registry
 * that outlives the transport (a warm Lambda or the agent skips the handshake next time).
 */
import { deviceLocks as defaultLocks, type DeviceLocks } from './device-lock';
import { formatEndpoint, type TplinkEndpoint } from './errors';
import { DeviceConnection, httpPost, type HttpReply } from './http-post';
import { LeaseHolder } from './lease-holder';
import { DEFAULT_REQUEST_TIMEOUT_MS, type Transport, type TransportTimeouts } from './transport';
import type { Credentials } from './klap-crypto';
import { silentLogger, type Logger } from '../logger';

/**
 * Sessions by device and transport kind, and each device's kept-alive HTTP connection (so a warm
 * session also reuses its TCP connection across transports); the default is process-wide.
 * Idle connections do not keep the process alive.
 */
export class SessionCache {
  private readonly sessions = new Map<string, unknown>();
  private readonly connections = new Map<string, DeviceConnection>();

  connectionFor(device: string): DeviceConnection {
    let connection = this.connections.get(device);
    if (!connection) {
      connection = new DeviceConnection();
      this.connections.set(device, connection);
    }
    return connection;
  }

  /** Closes every kept connection (tests, shutdown). Sessions stay. */
  closeConnections(): void {
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  get<S>(key: string): S | undefined {
    return this.sessions.get(key) as S | undefined;
  }
  set(key: string, session: unknown): void {
    this.sessions.set(key, session);
  }
  delete(key: string): void {
    this.sessions.delete(key);
  }
  clear(): void {
    this.sessions.clear();
    this.closeConnections();
  }
}

export const sessionCache = new SessionCache();

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Sessions end this long before the device's TIMEOUT (a fifth of it when shorter): clocks drift. */
const EXPIRY_MARGIN_MS = 20 * 60_000;

export function sessionExpiry(now: number, timeoutSeconds: number): number {
  const lifetime = timeoutSeconds * 1000;
  return now + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 5);
}

export interface SessionTransportOptions extends TransportTimeouts {
  credentials?: Credentials;
  /** Largest reply body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  sessions?: SessionCache;
  locks?: DeviceLocks;
  /** Milliseconds since the epoch (session expiry); default Date.now. */
  now?: () => number;
  /** The device's HTTP connection (default: the session cache's). */
  connection?: DeviceConnection;
  logger?: Logger;
}

export interface SessionTransportStats {
  /** HTTP requests sent, handshakes included. */
  roundTrips: number;
  handshakes: number;
}

/** One request's context: its deadline and a POST bound to it. */
export interface Exchange {
  /** `Date.now()` by which the request (handshake included) must be answered. */
  readonly deadline: number;
  post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<HttpReply>;
}

export abstract class SessionTransport implements Transport {
  readonly endpoint: TplinkEndpoint;
  readonly stats: SessionTransportStats = { roundTrips: 0, handshakes: 0 };
  protected readonly requestTimeoutMs: number;
  protected readonly credentials: Credentials | undefined;
  protected readonly sessions: SessionCache;
  protected readonly now: () => number;
  protected readonly log: Logger;
  protected readonly deviceKey: string;
  private readonly maxBodyBytes: number;
  private readonly connection: DeviceConnection;
  private readonly holder: LeaseHolder;
  /** Requests running (close fails their post in flight). */
  private inflight = 0;

  constructor(endpoint: TplinkEndpoint, options: SessionTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (!Number.isFinite(this.requestTimeoutMs) || this.requestTimeoutMs <= 0) {
      throw new RangeError(`requestTimeoutMs must be a positive number of milliseconds, got ${this.requestTimeoutMs}`);
    }
    this.credentials = options.credentials;
    this.sessions = options.sessions ?? sessionCache;
    this.now = options.now ?? Date.now;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.deviceKey = formatEndpoint(this.endpoint);
    this.connection = options.connection ?? this.sessions.connectionFor(this.deviceKey);
    this.log = (options.logger ?? silentLogger).child({ device: this.deviceKey });
    this.holder = new LeaseHolder({
      locks: options.locks ?? defaultLocks,
      key: this.deviceKey,
      endpoint: this.endpoint,
      requestTimeoutMs: this.requestTimeoutMs,
      idleTimeoutMs: 1,
      // The HTTP socket lives in the device's connection; the lease is only held while a request or hold is running.
      connection: { isOpen: () => false, park: () => undefined, drop: () => undefined },
    });
  }

  /** Encrypts and sends one request within the session, establishing it first when needed. */
  protected abstract exchange(exchange: Exchange, request: object): Promise<unknown>;

  send(request: object): Promise<unknown> {
    return this.holder.inTurn((deadline) => this.sendNow(request, deadline));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    return this.holder.within(fn);
  }

  async close(): Promise<void> {
    // The error is made only when something is in flight: a stack trace per close is measurable.
    const err = this.inflight > 0 ? this.holder.closedError() : undefined;
    if (err) this.connection.cancel(this, err);
    await this.holder.close(err);
  }

  /** Forgets this device's cached session (the next request handshakes). */
  forgetSession(): void {
    this.sessions.delete(this.sessionKey());
  }

  protected sessionKey(): string {
    return `${this.constructor.name}:${this.deviceKey}`;
  }

  /** One request, the device held, within its budget (see LeaseHolder.within). */
  private async sendNow(request: object, deadline: number): Promise<unknown> {
    this.inflight++;
    try {
      return await this.exchange(new BoundExchange(this, deadline), request);
    } finally {
      this.inflight--;
    }
  }

  /** One POST on the device's connection, failing at `deadline`; refused once the transport is closed. */
  postBefore(deadline: number, path: string, body: Buffer | string, headers?: Record<string, string>): Promise<HttpReply> {
    this.holder.assertOpen();
    this.stats.roundTrips++;
    return httpPost({
      endpoint: this.endpoint,
      path,
      body,
      headers,
      connection: this.connection,
      deadline,
      maxBodyBytes: this.maxBodyBytes,
      requestTimeoutMs: this.requestTimeoutMs,
      owner: this,
    });
  }
}

/** An {@link Exchange} without a closure per request. */
class BoundExchange implements Exchange {
  constructor(
    private readonly transport: SessionTransport,
    readonly deadline: number,
  ) {}

  post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<HttpReply> {
    return this.transport.postBefore(this.deadline, path, body, headers);
  }
}
