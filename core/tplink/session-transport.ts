/**
 * What KLAP and AES transports share: requests serialised per transport, the device mutex (one
 * client per device in this process, see device-mutex.ts), one time budget per request covering
 * handshake and exchange, a kept-alive HTTP connection, and sessions cached per device in a registry
 * that outlives the transport (a warm Lambda or the agent skips the handshake next time).
 */
import { deviceMutex, type DeviceHolder, type DeviceMutex } from './device-mutex';
import { formatEndpoint, SMART_DEVICE_BLOCKED, TplinkProtocolError, TplinkTimeoutError, transportClosed, type TplinkEndpoint, type TplinkError } from './errors';
import { DeviceConnection, httpPost, type HttpReply } from './http-post';
import { assertPositiveMs, DEFAULT_REQUEST_TIMEOUT_MS, type Transport, type TransportTimeouts } from './transport';
import { SerialQueue } from '../util/serial-queue';
import type { Credentials } from './klap-crypto';
import { LoginGuard } from './login-guard';
import { isObject } from '../util/guards';
import { silentLogger, type Logger } from '../logger';

/**
 * Sessions by device and transport kind, and each device's kept-alive HTTP connection (so a warm
 * session also reuses its TCP connection across transports); the default is process-wide.
 * Idle connections do not keep the process alive.
 */
export class SessionCache {
  private readonly sessions = new Map<string, unknown>();
  private readonly connections = new Map<string, DeviceConnection>();
  private readonly guards = new Map<string, LoginGuard>();

  /** What the device said about our logins (refused, blocked until), kept as long as the sessions. */
  loginGuard(endpoint: TplinkEndpoint): LoginGuard {
    const key = formatEndpoint(endpoint);
    let guard = this.guards.get(key);
    if (!guard) {
      guard = new LoginGuard(endpoint);
      this.guards.set(key, guard);
    }
    return guard;
  }

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
    this.guards.clear();
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
  mutex?: DeviceMutex;
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

/** A reply's JSON; `what` names the reply in the error. */
export function parseReplyJson(endpoint: TplinkEndpoint, bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new TplinkProtocolError(endpoint, 'bad-json', `${what} of ${bytes.length} bytes is not JSON`, err);
  }
}

/** A session the device refused, or a reply that does not decrypt: worth one fresh session. */
export class StaleSession extends Error {
  constructor(
    readonly why: string,
    readonly failure: TplinkError,
  ) {
    super(why);
  }
}

export abstract class SessionTransport<S = unknown> implements Transport {
  readonly endpoint: TplinkEndpoint;
  readonly stats: SessionTransportStats = { roundTrips: 0, handshakes: 0 };
  protected readonly requestTimeoutMs: number;
  protected readonly credentials: Credentials | undefined;
  protected readonly sessions: SessionCache;
  protected readonly now: () => number;
  protected readonly log: Logger;
  protected readonly deviceKey: string;
  /** Refused logins and blocks (-40404) of this device. */
  protected readonly guard: LoginGuard;
  private readonly maxBodyBytes: number;
  private readonly connection: DeviceConnection;
  private readonly holder: DeviceHolder;
  private readonly queue = new SerialQueue();
  private closed = false;
  /** Requests running (close fails their post in flight). */
  private inflight = 0;

  constructor(endpoint: TplinkEndpoint, options: SessionTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    assertPositiveMs({ requestTimeoutMs: this.requestTimeoutMs });
    this.credentials = options.credentials;
    this.sessions = options.sessions ?? sessionCache;
    this.now = options.now ?? Date.now;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.deviceKey = formatEndpoint(this.endpoint);
    this.connection = options.connection ?? this.sessions.connectionFor(this.deviceKey);
    this.log = (options.logger ?? silentLogger).child({ device: this.deviceKey });
    this.guard = this.sessions.loginGuard(this.endpoint);
    // The HTTP socket lives in the device's connection (shared by its transports): nothing to hand over.
    const user = { handOver: () => Promise.resolve() };
    this.holder = (options.mutex ?? deviceMutex).holder(this.deviceKey, user, () => new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs));
  }

  /** This device's cached session, when still usable. */
  protected abstract cachedSession(): S | undefined;
  /** A new session (handshake, login), cached. */
  protected abstract establish(exchange: Exchange): Promise<S>;
  /** Encrypts and sends one request within `session`; throws a StaleSession when a fresh one may succeed. */
  protected abstract inSession(exchange: Exchange, session: S, request: object): Promise<unknown>;
  /** Sees a session the device refused before it is replaced. */
  protected onStale(_session: S, _stale: StaleSession): void {}

  /** One request in the cached session (else a new one); a stale session gets one new session, no more. */
  private async exchange(exchange: Exchange, request: object): Promise<unknown> {
    let session = this.cachedSession() ?? (await this.establish(exchange));
    for (let retried = false; ; retried = true) {
      try {
        return await this.inSession(exchange, session, request);
      } catch (err) {
        if (!(err instanceof StaleSession)) throw err;
        this.forgetSession();
        if (retried) throw err.failure;
        this.onStale(session, err);
        this.log.debug('session refused; handshaking once more', { why: err.why });
        session = await this.establish(exchange);
      }
    }
  }

  /** Sends after the requests before it; its budget starts when its turn comes. */
  send(request: object): Promise<unknown> {
    return this.queue.run(() => this.reserved((deadline) => this.sendNow(request, deadline)));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    return this.reserved(fn);
  }

  close(): Promise<void> {
    this.closed = true;
    // The error is made only when something is in flight or waits: a stack trace per close is measurable.
    const err = () => transportClosed(this.endpoint);
    if (this.inflight > 0) this.connection.cancel(this, err());
    this.holder.close(err, Promise.resolve());
    return Promise.resolve();
  }

  /** Forgets this device's cached session (the next request handshakes). */
  forgetSession(): void {
    this.sessions.delete(this.sessionKey());
  }

  protected sessionKey(): string {
    return `${this.constructor.name}:${this.deviceKey}`;
  }

  /** Runs `fn` holding the device, within one request timeout from now (the wait for the device included). */
  private reserved<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(transportClosed(this.endpoint));
    const deadline = Date.now() + this.requestTimeoutMs;
    return this.holder.use(deadline, () => (this.closed ? Promise.reject(transportClosed(this.endpoint)) : fn(deadline)));
  }

  /** One request, the device held, within its budget. */
  private async sendNow(request: object, deadline: number): Promise<unknown> {
    // A device that blocks logins gets nothing until the block is over: each attempt may extend it.
    this.guard.check(this.now());
    this.inflight++;
    try {
      const reply = await this.exchange(new BoundExchange(this, deadline), request);
      if (isObject(reply) && reply.error_code === SMART_DEVICE_BLOCKED) this.guard.blocked(this.now(), reply);
      return reply;
    } finally {
      this.inflight--;
    }
  }

  /** One POST on the device's connection, failing at `deadline`; refused once the transport is closed. */
  postBefore(deadline: number, path: string, body: Buffer | string, headers?: Record<string, string>): Promise<HttpReply> {
    if (this.closed) return Promise.reject(transportClosed(this.endpoint));
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
