/**
 * The classic transport: autokey-XOR frames over TCP port 9999. One connection at a time per
 * device (see device-lock.ts), reused for consecutive requests while the device keeps it open,
 * and re-opened once, transparently, when a reused connection turns out to be closed.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import { encodeFrame, FrameDecoder, DEFAULT_MAX_FRAME_LENGTH } from './codec';
import { deviceLocks as defaultLocks, type DeviceLease, type DeviceLocks } from './device-lock';
import {
  TplinkError,
  FrameTooLargeError,
  TplinkConnectionRefusedError,
  TplinkConnectionResetError,
  TplinkNetworkError,
  TplinkProtocolError,
  TplinkTimeoutError,
  formatEndpoint,
  type TplinkEndpoint,
} from './errors';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type Transport,
  type TransportTimeouts,
} from './transport';
import { silentLogger, type Logger } from '../logger';

/** Opens a TCP connection; the default is `net.createConnection`. Tests may wrap it to count. */
export type SocketFactory = (options: { host: string; port: number }) => Socket;

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

/** How long a graceful close waits for the device to close its side before destroying the socket. */
const GRACEFUL_CLOSE_MS = 250;

/** Thrown inside a round trip when a reused connection closed before any reply byte: retry once. */
class ClosedBeforeReply extends TplinkConnectionResetError {}

/** One wait for the device lock, shared by every caller of this transport that needs the lease. */
interface Acquiring {
  done: Promise<void>;
  abort: AbortController;
  /** Callers still waiting for it; when the last gives up, the wait is withdrawn from the lock's queue. */
  waiting: number;
}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: TplinkError) => void;
  gotBytes: boolean;
}

export class XorTcpTransport implements Transport {
  readonly endpoint: TplinkEndpoint;
  readonly stats: XorTcpTransportStats = { connections: 0, requests: 0, peakBufferedBytes: 0 };
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly socketFactory: SocketFactory;
  private readonly locks: DeviceLocks;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  private readonly key: string;

  private socket: Socket | undefined;
  private pending: Pending | undefined;
  private lease: DeviceLease | undefined;
  private acquiring: Acquiring | undefined;
  /** Aborts the request in flight (its connect) when the transport is closed. */
  private inflight: AbortController | undefined;
  private busy = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Serialises this transport's own requests. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Settles when every socket this transport closed has finished closing. */
  private closing: Promise<void> | undefined;

  constructor(endpoint: TplinkEndpoint, options: XorTcpTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.socketFactory = options.socketFactory ?? defaultSocketFactory;
    this.locks = options.locks ?? defaultLocks;
    this.log = (options.logger ?? silentLogger).child({ device: formatEndpoint(this.endpoint) });
    this.decoder = new FrameDecoder({ maxLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH });
    this.key = formatEndpoint(this.endpoint);
    for (const [name, value] of Object.entries({
      connectTimeoutMs: this.connectTimeoutMs,
      requestTimeoutMs: this.requestTimeoutMs,
      idleTimeoutMs: this.idleTimeoutMs,
    })) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
    }
  }

  send(request: object): Promise<unknown> {
    const run = this.queue.then(() => this.sendNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.assertOpen();
    this.busy++;
    try {
      // The session waits for the device at most one request timeout.
      await this.ensureLease(Date.now() + this.requestTimeoutMs);
      this.assertOpen();
      return await fn();
    } finally {
      this.busy--;
      this.afterUse();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const closedError = () => new TplinkConnectionResetError(this.endpoint, 'transport is closed');
    // Callers waiting for the device, and a connect in progress, fail now rather than at their timeout.
    const acquiring = this.acquiring;
    this.acquiring = undefined;
    acquiring?.abort.abort(closedError());
    this.inflight?.abort(closedError());
    this.dropSocket(true);
    this.releaseLease();
    await this.closing;
  }

  private assertOpen(): void {
    if (this.closed) throw new TplinkConnectionResetError(this.endpoint, 'transport is closed');
  }

  private async sendNow(request: object): Promise<unknown> {
    this.assertOpen();
    this.busy++;
    try {
      // One budget for the whole request: waiting for the device, connecting, the exchange.
      const deadline = Date.now() + this.requestTimeoutMs;
      await this.ensureLease(deadline);
      this.assertOpen();
      // Granted just at the deadline: do not start a connection with no time left to use it.
      if (Date.now() >= deadline) throw new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs);
      const frame = encodeFrame(request);
      const payload = await this.withDeadline(deadline, (signal) => this.exchange(frame, deadline, signal));
      try {
        return JSON.parse(payload.toString('utf8'));
      } catch (err) {
        // The frame was fine but its content is not: nothing on this connection can be trusted.
        this.dropSocket();
        throw new TplinkProtocolError(this.endpoint, 'bad-json', `reply of ${payload.length} bytes is not JSON`, err);
      }
    } finally {
      this.busy--;
      this.afterUse();
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
          this.dropSocket(); // fails the pending round trip, whose rejection is ignored below
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
    const reused = this.socket !== undefined;
    if (!reused) await this.connect(deadline, signal);
    try {
      return await this.roundTrip(frame);
    } catch (err) {
      if (!(reused && err instanceof ClosedBeforeReply) || Date.now() >= deadline) throw err;
      // The device closed the kept connection (some firmware closes after every reply): once more, fresh.
      this.log.debug('connection was closed by the device; reconnecting once');
      await this.connect(deadline, signal);
      return await this.roundTrip(frame);
    }
  }

  private connect(deadline: number, signal: AbortSignal): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.connectTimeoutMs, deadline - Date.now()));
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(this.endpoint, signal, this.requestTimeoutMs));
        return;
      }
      this.stats.connections++;
      const socket = this.socketFactory({ host: this.endpoint.host, port: this.endpoint.port });
      const fail = (err: TplinkError) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        this.trackClose(socket); // the device is handed over only once this socket is gone too
        reject(err);
      };
      const onAbort = () => fail(abortError(this.endpoint, signal, this.requestTimeoutMs));
      const onError = (err: Error) => fail(mapSocketError(this.endpoint, err, 'connect', this.connectTimeoutMs));
      const timer = setTimeout(() => fail(new TplinkTimeoutError(this.endpoint, 'connect', timeoutMs)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.setNoDelay(true);
        this.adopt(socket);
        resolve();
      });
    });
  }

  /** Wires a connected socket to the decoder and the pending request. */
  private adopt(socket: Socket): void {
    this.socket = socket;
    this.decoder.reset();
    socket.on('data', (chunk: Buffer) => {
      if (this.socket !== socket) return;
      const pending = this.pending;
      if (pending === undefined) {
        this.log.warn('unexpected data from the device; closing the connection', { bytes: chunk.length });
        this.dropSocket();
        return;
      }
      pending.gotBytes = true;
      let frames: Buffer[];
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.pending = undefined;
        this.dropSocket();
        const detail = err instanceof FrameTooLargeError ? err.message : 'undecodable frame';
        pending.reject(new TplinkProtocolError(this.endpoint, 'oversize', detail, err));
        return;
      }
      if (this.decoder.bufferedBytes > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.decoder.bufferedBytes;
      if (frames.length === 0) return;
      this.pending = undefined;
      if (frames.length > 1 || this.decoder.inFrame) {
        this.dropSocket();
        pending.reject(new TplinkProtocolError(this.endpoint, 'bad-frame', 'more data than one reply frame'));
        return;
      }
      pending.resolve(frames[0]!);
    });
    const onGone = (err?: Error) => {
      if (this.socket !== socket) return;
      const pending = this.pending;
      const expected = this.decoder.expectedLength;
      const buffered = this.decoder.bufferedBytes;
      this.socket = undefined;
      this.pending = undefined;
      socket.destroy();
      if (pending === undefined) {
        // Closed while idle: the next request opens a new connection.
        this.afterUse();
        return;
      }
      if (!pending.gotBytes && (err === undefined || isResetCode(err))) {
        pending.reject(new ClosedBeforeReply(this.endpoint, 'connection closed before the reply', err));
      } else if (err !== undefined && !isResetCode(err)) {
        pending.reject(mapSocketError(this.endpoint, err, 'request', this.requestTimeoutMs));
      } else {
        const progress = expected === undefined ? `${buffered} header bytes` : `${buffered - 4} of ${expected} reply bytes`;
        pending.reject(new TplinkConnectionResetError(this.endpoint, `connection closed after ${progress}`, err));
      }
    };
    socket.on('error', (err) => onGone(err));
    socket.on('end', () => onGone());
    socket.on('close', () => onGone());
  }

  private roundTrip(frame: Buffer): Promise<Buffer> {
    const socket = this.socket;
    if (socket === undefined) {
      return Promise.reject(new ClosedBeforeReply(this.endpoint, 'connection closed before the request'));
    }
    this.stats.requests++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject, gotBytes: false };
      this.decoder.reset();
      socket.ref();
      socket.write(frame);
    });
  }

  /**
   * Waits for the device (see device-lock.ts) until `deadline` at most. Several callers of this
   * transport share one place in the lock's queue; a caller that runs out of time fails with a
   * `queue` timeout, and when the last one gives up the place is withdrawn, so the device is never
   * granted to nobody.
   */
  private async ensureLease(deadline: number): Promise<void> {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    if (this.lease) return;
    let acquiring = this.acquiring;
    if (!acquiring) {
      const abort = new AbortController();
      const started: Acquiring = {
        abort,
        waiting: 0,
        done: this.locks.acquire(this.key, abort.signal).then((lease) => {
          if (this.acquiring === started) this.acquiring = undefined;
          if (this.closed) {
            lease.release();
            return;
          }
          this.lease = lease;
          // Someone else wants the device: let go as soon as nothing is in flight.
          lease.onContended = () => this.afterUse();
          // Granted just as its last caller gave up: hand it on at once.
          this.afterUse();
        }),
      };
      started.done.catch(() => undefined); // withdrawn: every caller has had its own error
      this.acquiring = acquiring = started;
    }
    const current = acquiring;
    current.waiting++;
    let timer: NodeJS.Timeout | undefined;
    const waitMs = Math.max(1, deadline - Date.now());
    try {
      await Promise.race([
        current.done,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs)), waitMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      current.waiting--;
      if (current.waiting === 0 && this.acquiring === current && this.lease === undefined) {
        this.acquiring = undefined;
        current.abort.abort(new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs));
      }
    }
  }

  /** After a request or a hold: yield the device if others wait or the connection is gone; else idle. */
  private afterUse(): void {
    if (this.busy > 0 || this.lease === undefined) return;
    if (this.closed || this.lease.contended || this.socket === undefined) {
      this.dropSocket(true);
      this.releaseLease();
      return;
    }
    // Idle with an open connection: keep it for the next request, but never keep the process alive for it.
    this.socket.unref();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.busy === 0) {
        this.dropSocket(true);
        this.releaseLease();
      }
    }, this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /**
   * Closes the connection: `graceful` ends it and waits (briefly) for the device to close its side,
   * otherwise it is destroyed. Either way `closing` settles once the socket is fully closed.
   */
  private dropSocket(graceful = false): void {
    const socket = this.socket;
    this.socket = undefined;
    this.decoder.reset();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new TplinkConnectionResetError(this.endpoint, 'connection closed by the client'));
    if (!socket) return;
    if (graceful && !socket.destroyed) {
      socket.ref(); // a pending close must not be cut short by the process exiting
      socket.end();
      const timer = setTimeout(() => socket.destroy(), GRACEFUL_CLOSE_MS);
      void this.trackClose(socket).then(() => clearTimeout(timer));
    } else {
      socket.destroy();
      void this.trackClose(socket);
    }
  }

  /** Adds `socket`'s close to `closing` (which the device's hand-over waits for); resolves when it is closed. */
  private trackClose(socket: Socket): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (socket.closed) resolve();
      else socket.once('close', () => resolve());
    });
    const previous = this.closing;
    const all: Promise<void> = previous ? Promise.all([previous, closed]).then(() => undefined) : closed;
    this.closing = all;
    void all.then(() => {
      if (this.closing === all) this.closing = undefined;
    });
    return closed;
  }

  /**
   * Frees the device for the next waiter, once our connection is fully closed: the device then
   * has seen our close before the next client connects, so it never sees two connections.
   */
  private releaseLease(): void {
    if (this.idleTimer) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    if (this.closing) void this.closing.then(() => lease.release());
    else lease.release();
  }
}

/** The error a connect fails with when its signal aborts: the abort's reason, else a request timeout. */
function abortError(endpoint: TplinkEndpoint, signal: AbortSignal, requestTimeoutMs: number): TplinkError {
  const reason: unknown = signal.reason;
  return reason instanceof TplinkError ? reason : new TplinkTimeoutError(endpoint, 'request', requestTimeoutMs);
}

function isResetCode(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

/** Turns a socket error into the TplinkError that says what happened and whether to retry. */
export function mapSocketError(
  endpoint: TplinkEndpoint,
  err: Error,
  phase: 'connect' | 'request',
  timeoutMs: number,
): TplinkError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return new TplinkConnectionRefusedError(endpoint, err);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return new TplinkConnectionResetError(endpoint, `connection reset (${code})`, err);
    case 'ETIMEDOUT':
      return new TplinkTimeoutError(endpoint, phase, timeoutMs, err);
    case 'ENOTFOUND':
      return new TplinkNetworkError(endpoint, `host name not found (${code})`, code, false, err);
    default:
      return new TplinkNetworkError(endpoint, `network error: ${err.message}`, code, true, err);
  }
}
