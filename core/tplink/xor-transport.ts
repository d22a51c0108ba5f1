/**
 * XOR frames (codec.ts) over TCP 9999 on one connection, kept while the device keeps it (unref'd and
 * closed when idle) and reopened once when a kept one turns out closed. Without a `mutex` (a button
 * click) the device-sharing code is not bundled.
 */
import net, { type Socket } from 'node:net';
import { DEFAULT_MAX_FRAME_LENGTH, encodeFrame, FrameDecoder } from './codec';
import type { DeviceMutex } from './device-mutex';
import {
  TplinkProtocolError,
  TplinkTimeoutError,
  connectionReset,
  formatEndpoint,
  isResetCode,
  mapSocketError,
  parseReplyJson,
  transportClosed,
  type TplinkEndpoint,
  type TplinkError,
} from './errors';
import { assertPositiveMs, DEFAULT_CONNECT_TIMEOUT_MS, QueuedTransport, type TransportTimeouts } from './transport';
import { silentLogger, type Logger } from '../logger';

/** Opens a TCP connection; the default is `net.createConnection`. Tests may wrap it to count. */
export type SocketFactory = (options: TplinkEndpoint) => Socket;

export interface XorTransportOptions extends TransportTimeouts {
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  socketFactory?: SocketFactory;
  logger?: Logger;
  /** An idle connection is closed after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** Shares the device with the process's other transports (plug.ts passes the process-wide `deviceMutex`). */
  mutex?: DeviceMutex;
}

/** How long a graceful close waits for the device to close its side before destroying the socket. */
const GRACEFUL_CLOSE_MS = 250;

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: TplinkError) => void;
  gotBytes: boolean;
}

export class XorTransport extends QueuedTransport {
  /** Connections opened; the most bytes of an incomplete reply frame held at once. */
  readonly stats = { connections: 0, peakBufferedBytes: 0 };
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly socketFactory: SocketFactory;
  private readonly log: Logger;
  private readonly decoder: FrameDecoder;
  /** The connection, while it is open; `pending` is the round trip on it. */
  private socket: Socket | undefined;
  private pending: Pending | undefined;
  /** The last round trip's connection went away before any reply byte: a fresh one may work. */
  private unanswered = false;
  /** Aborts the request in flight (its connect) when the transport is closed. */
  private inflight: AbortController | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Sockets not yet closed: the device is handed over once they are gone. */
  private readonly closes = new Set<Promise<void>>();

  constructor(endpoint: TplinkEndpoint, options: XorTransportOptions = {}) {
    super(endpoint, options.requestTimeoutMs, options.mutex);
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    assertPositiveMs({ connectTimeoutMs: this.connectTimeoutMs, requestTimeoutMs: this.requestTimeoutMs, idleTimeoutMs: this.idleTimeoutMs });
    this.decoder = new FrameDecoder({ maxLength: options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH });
    this.socketFactory = options.socketFactory ?? (({ host, port }) => net.createConnection({ host, port }));
    this.log = (options.logger ?? silentLogger).child({ device: formatEndpoint(this.endpoint) });
  }

  async close(): Promise<void> {
    this.closed = true;
    // Callers waiting for the device, and a connect in progress, fail now rather than at their timeout.
    this.inflight?.abort(transportClosed(this.endpoint));
    const closed = this.handOver();
    this.holder?.close(() => transportClosed(this.endpoint), closed);
    await closed;
  }

  /** Closes the idle connection; settles once every socket opened so far is closed. */
  async handOver(): Promise<void> {
    this.drop(true);
    await Promise.all([...this.closes]);
  }

  /** One request, up to `deadline`: connecting (once more when a kept connection was closed) and the reply. */
  protected async request(request: object, deadline: number): Promise<unknown> {
    // Granted just at the deadline: do not start a connection with no time left to use it.
    if (Date.now() >= deadline) throw new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs);
    clearTimeout(this.idleTimer);
    const abort = new AbortController();
    this.inflight = abort;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const err = new TplinkTimeoutError(this.endpoint, 'request', this.requestTimeoutMs);
        abort.abort(err); // stops a connect in progress
        this.drop(); // fails the pending round trip, whose rejection is ignored
        reject(err);
      }, Math.max(1, deadline - Date.now()));
    });
    let payload: Buffer;
    try {
      payload = await Promise.race([this.exchange(encodeFrame(request), deadline, abort.signal), timeout]);
    } finally {
      clearTimeout(timer);
      if (this.inflight === abort) this.inflight = undefined;
      this.idle();
    }
    try {
      return parseReplyJson(this.endpoint, payload, 'reply');
    } catch (err) {
      // The frame was fine but its content is not: nothing on this connection can be trusted.
      this.drop();
      throw err;
    }
  }

  private async exchange(frame: Buffer, deadline: number, signal: AbortSignal): Promise<Buffer> {
    const kept = this.socket !== undefined;
    if (!kept) await this.connect(deadline, signal);
    try {
      return await this.roundTrip(frame);
    } catch (err) {
      if (!kept || !this.unanswered || Date.now() >= deadline) throw err;
      // The device closed the kept connection (some firmware closes after every reply): once more, fresh.
      this.log.debug('the device closed the kept connection; reconnecting once');
      await this.connect(deadline, signal);
      return await this.roundTrip(frame);
    }
  }

  /** Connects within the connect timeout (and the deadline); `signal` aborting fails it with its reason. */
  private connect(deadline: number, signal: AbortSignal): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.connectTimeoutMs, deadline - Date.now()));
    this.stats.connections++;
    // The signal's reason: the request timeout, or the transport closing.
    if (signal.aborted) return Promise.reject(signal.reason as TplinkError);
    const socket = this.socketFactory({ host: this.endpoint.host, port: this.endpoint.port });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.closes.add(closed);
    void closed.then(() => this.closes.delete(closed));
    return new Promise<void>((resolve, reject) => {
      const settled = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      const fail = (err: TplinkError) => {
        settled();
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(signal.reason as TplinkError);
      const onError = (err: Error) => fail(mapSocketError(this.endpoint, err, 'connect', timeoutMs));
      const timer = setTimeout(() => fail(new TplinkTimeoutError(this.endpoint, 'connect', timeoutMs)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        settled();
        socket.off('error', onError);
        socket.setNoDelay(true);
        this.socket = socket;
        socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
        socket.on('error', (err) => this.onGone(socket, err));
        socket.on('end', () => this.onGone(socket));
        socket.on('close', () => this.onGone(socket));
        resolve();
      });
    });
  }

  /** Sends one frame and resolves with the decrypted payload of the one reply frame. */
  private roundTrip(frame: Buffer): Promise<Buffer> {
    const socket = this.socket;
    if (!socket) return Promise.reject(connectionReset(this.endpoint, 'connection closed before the request'));
    this.unanswered = false;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject, gotBytes: false };
      this.decoder.reset();
      socket.ref();
      socket.write(frame);
    });
  }

  /** Between requests: the kept connection must not keep the process alive, and closes after the idle period. */
  private idle(): void {
    if (!this.socket) return;
    this.socket.unref();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.drop(true), this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Closes the connection (failing a pending round trip); `graceful` lets the device close its side first. */
  private drop(graceful = false): void {
    clearTimeout(this.idleTimer);
    const socket = this.socket;
    this.socket = undefined;
    this.fail(connectionReset(this.endpoint, 'connection closed by the client'));
    if (!socket) return;
    if (graceful && !socket.destroyed) {
      socket.ref(); // a pending close must not be cut short by the process exiting
      socket.end();
      const timer = setTimeout(() => socket.destroy(), GRACEFUL_CLOSE_MS);
      socket.once('close', () => clearTimeout(timer));
    } else {
      socket.destroy();
    }
  }

  private fail(err: TplinkError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    const pending = this.pending;
    if (pending === undefined) {
      this.log.warn('unexpected data from the device; closing the connection', { bytes: chunk.length });
      return this.drop();
    }
    pending.gotBytes = true;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.pending = undefined;
      this.drop();
      return pending.reject(new TplinkProtocolError(this.endpoint, 'oversize', (err as Error).message, err));
    }
    this.stats.peakBufferedBytes = Math.max(this.stats.peakBufferedBytes, this.decoder.bufferedBytes);
    if (frames.length === 0) return;
    this.pending = undefined;
    if (frames.length > 1 || this.decoder.inFrame) {
      this.drop();
      return pending.reject(new TplinkProtocolError(this.endpoint, 'bad-frame', 'more data than one reply frame'));
    }
    pending.resolve(frames[0]!);
  }

  private onGone(socket: Socket, err?: Error): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const { pending, decoder } = this;
    this.pending = undefined;
    socket.destroy();
    if (err !== undefined && !isResetCode((err as NodeJS.ErrnoException).code)) {
      pending?.reject(mapSocketError(this.endpoint, err, 'request', this.requestTimeoutMs));
    } else if (pending?.gotBytes !== true) {
      this.unanswered = true;
      pending?.reject(connectionReset(this.endpoint, 'connection closed before the reply', err));
    } else {
      const expected = decoder.expectedLength;
      const progress = expected === undefined ? `${decoder.bufferedBytes} header bytes` : `${decoder.bufferedBytes - 4} of ${expected} reply bytes`;
      pending.reject(connectionReset(this.endpoint, `connection closed after ${progress}`, err));
    }
  }
}
