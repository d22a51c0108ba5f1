/** What KLAP and AES share: a kept-alive HTTP connection, and sessions cached per device beyond the transport. */
import { deviceMutex } from './device-mutex';
import { formatEndpoint, SMART_DEVICE_BLOCKED, transportClosed, type TplinkEndpoint, type TplinkError } from './errors';
import { DeviceConnection, httpPost, type HttpReply } from './http-post';
import { assertPositiveMs, QueuedTransport, type TransportTimeouts } from './transport';
import type { Credentials } from './klap-crypto';
import { LoginGuard } from './login-guard';
import { isObject } from '../util/guards';
import { silentLogger, type Logger } from '../logger';

/** Sessions by device and transport kind, each device's login guard and connection; process-wide by default. */
export class SessionCache {
  private readonly sessions = new Map<string, unknown>();
  private readonly connections = new Map<string, DeviceConnection>();
  private readonly guards = new Map<string, LoginGuard>();

  /** What the device said about our logins (refused, blocked until), kept as long as the sessions. */
  loginGuard(endpoint: TplinkEndpoint): LoginGuard {
    return getOrAdd(this.guards, formatEndpoint(endpoint), () => new LoginGuard(endpoint));
  }

  connectionFor(device: string): DeviceConnection {
    return getOrAdd(this.connections, device, () => new DeviceConnection());
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

function getOrAdd<V>(map: Map<string, V>, key: string, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) map.set(key, (value = make()));
  return value;
}

const sessionCache = new SessionCache();

/** Sessions end this long before the device's TIMEOUT (a fifth of it when shorter): clocks drift. */
const EXPIRY_MARGIN_MS = 20 * 60_000;

const DEFAULT_TIMEOUT_SECONDS = 86400;

/** When a session ends, given the device's TIMEOUT cookie (seconds; one day when absent or unusable). */
export function sessionExpiry(now: number, timeoutCookie: string | undefined): number {
  const seconds = Number(timeoutCookie ?? DEFAULT_TIMEOUT_SECONDS);
  const lifetime = (Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_TIMEOUT_SECONDS) * 1000;
  return now + lifetime - Math.min(EXPIRY_MARGIN_MS, lifetime / 5);
}

export interface SessionTransportOptions extends TransportTimeouts {
  credentials?: Credentials;
  /** Largest reply body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  sessions?: SessionCache;
  /** Milliseconds since the epoch (session expiry); default Date.now. */
  now?: () => number;
  logger?: Logger;
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

export abstract class SessionTransport<S = unknown> extends QueuedTransport {
  protected readonly credentials: Credentials | undefined;
  protected readonly sessions: SessionCache;
  protected readonly now: () => number;
  protected readonly log: Logger;
  /** Refused logins and blocks (-40404) of this device. */
  protected readonly guard: LoginGuard;
  private readonly deviceKey: string;
  private readonly maxBodyBytes: number;
  private readonly connection: DeviceConnection;
  /** Requests running (close fails their post in flight). */
  private inflight = 0;

  constructor(endpoint: TplinkEndpoint, options: SessionTransportOptions = {}) {
    super(endpoint, options.requestTimeoutMs, deviceMutex);
    assertPositiveMs({ requestTimeoutMs: this.requestTimeoutMs });
    this.credentials = options.credentials;
    this.sessions = options.sessions ?? sessionCache;
    this.now = options.now ?? Date.now;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
    this.deviceKey = formatEndpoint(this.endpoint);
    this.connection = this.sessions.connectionFor(this.deviceKey);
    this.log = (options.logger ?? silentLogger).child({ device: this.deviceKey });
    this.guard = this.sessions.loginGuard(this.endpoint);
  }

  /** The HTTP socket lives in the device's connection, shared by its transports: nothing to hand over. */
  handOver(): Promise<void> {
    return Promise.resolve();
  }

  /** This device's cached session, when still usable. */
  protected abstract cachedSession(): S | undefined;
  /** A new session (handshake, login), cached; its posts answered by `deadline`. */
  protected abstract establish(deadline: number): Promise<S>;
  /** Encrypts and sends one request within `session`; throws a StaleSession when a fresh one may succeed. */
  protected abstract inSession(deadline: number, session: S, request: object): Promise<unknown>;
  /** Sees a session the device refused before it is replaced. */
  protected onStale(_session: S, _stale: StaleSession): void {}

  /** One request in the cached session (else a new one); a stale session gets one new session, no more. */
  private async exchange(deadline: number, request: object): Promise<unknown> {
    let session = this.cachedSession() ?? (await this.establish(deadline));
    for (let retried = false; ; retried = true) {
      try {
        return await this.inSession(deadline, session, request);
      } catch (err) {
        if (!(err instanceof StaleSession)) throw err;
        this.forgetSession();
        if (retried) throw err.failure;
        this.onStale(session, err);
        this.log.debug('session refused; handshaking once more', { why: err.why });
        session = await this.establish(deadline);
      }
    }
  }

  close(): Promise<void> {
    this.closed = true;
    // The error is made only when something is in flight or waits: a stack trace per close is measurable.
    const err = () => transportClosed(this.endpoint);
    if (this.inflight > 0) this.connection.cancel(this, err());
    this.holder?.close(err, Promise.resolve());
    return Promise.resolve();
  }

  /** Forgets this device's cached session (the next request handshakes). */
  forgetSession(): void {
    this.sessions.delete(this.sessionKey());
  }

  protected sessionKey(): string {
    return `${this.constructor.name}:${this.deviceKey}`;
  }

  protected async request(request: object, deadline: number): Promise<unknown> {
    // A device that blocks logins gets nothing until the block is over: each attempt may extend it.
    this.guard.check(this.now());
    this.inflight++;
    try {
      const reply = await this.exchange(deadline, request);
      if (isObject(reply) && reply.error_code === SMART_DEVICE_BLOCKED) this.guard.blocked(this.now(), reply);
      return reply;
    } finally {
      this.inflight--;
    }
  }

  /** One POST on the device's connection, failing at `deadline`; refused once the transport is closed. */
  protected post(deadline: number, path: string, body: Buffer | string, headers?: Record<string, string>): Promise<HttpReply> {
    if (this.closed) return Promise.reject(transportClosed(this.endpoint));
    const { endpoint, connection, maxBodyBytes, requestTimeoutMs } = this;
    return httpPost({ endpoint, path, body, headers, connection, deadline, maxBodyBytes, requestTimeoutMs, owner: this });
  }
}
