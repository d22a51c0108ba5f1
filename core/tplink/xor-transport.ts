/**
 * The classic transport: autokey-XOR frames (codec.ts) over TCP port 9999. Requests go one after
 * another over one connection, opened at the first request, kept while the device keeps it open
 * (unref'd while idle, closed after an idle period) and opened afresh once, transparently, when a
 * kept connection turns out closed. One time budget per request covers waiting for the device,
 * connecting and the reply. Given a `mutex` (device-mutex.ts), it shares the device with the
 * process's other transports; without one (a button click: the device's only client) that code
 * is not even bundled.
 */
import net, { type Socket } from 'node:net';
import { DEFAULT_MAX_FRAME_LENGTH, encodeFrame, FrameDecoder } from './codec';
import type { DeviceHolder, DeviceMutex, DeviceUser } from './device-mutex';
import {
  TplinkProtocolError,
  TplinkTimeoutError,
  connectionReset,
  formatEndpoint,
  isResetCode,
  mapSocketError,
  transportClosed,
  type TplinkEndpoint,
  type TplinkError,
} from './errors';
import { assertPositiveMs, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, type Transport, type TransportTimeouts } from './transport';
import { SerialQueue } from '../util/serial-queue';
import { silentLogger, type Logger } from '../logger';

/** Opens a TCP connection; the default is `net.createConnection`. Tests may wrap it to count. */
export type SocketFactory = (options: { host: string; port: number }) => Socket;

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

export interface XorTransportStats {
  /** Connections opened so far. */
  connections: number;
  /** Requests sent, retries included. */
  requests: number;
  /** Most bytes of an incomplete reply frame ever held at once. */
  peakBufferedBytes: number;
}

/** How long a graceful close waits for the device to close its side before destroying the socket. */
const GRACEFUL_CLOSE_MS = 250;

export class XorTransport implements Transport, DeviceUser {
  readonly endpoint: TplinkEndpoint;
  readonly stats: XorTransportStats = { connections: 0, requests: 0, peakBufferedBytes: 0 };
  readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** @internal */
  readonly maxFrameLength: number;
  /** @internal */
  readonly socketFactory: SocketFactory;
  /** @internal */
  readonly log: Logger;
  private readonly holder: DeviceHolder | undefined;
  private readonly queue = new SerialQueue();
  private connection: Connection | undefined;
  /** Aborts the request in flight (its connect) when the transport is closed. */
  private inflight: AbortController | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Sockets closing: the device is handed over once they are gone. */
  private readonly closes = new Set<Promise<void>>();
  private closed = false;

  constructor(endpoint: TplinkEndpoint, options: XorTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    assertPositiveMs({ connectTimeoutMs: this.connectTimeoutMs, requestTimeoutMs: this.requestTimeoutMs, idleTimeoutMs: this.idleTimeoutMs });
    this.maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    this.socketFactory = options.socketFactory ?? (({ host, port }) => net.createConnection({ host, port }));
    this.log = (options.logger ?? silentLogger).child({ device: formatEndpoint(this.endpoint) });
    this.holder = options.mutex?.holder(formatEndpoint(this.endpoint), this, () => new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs));
  }

  /** Sends after the requests before it; its budget starts when its turn comes. */
  send(request: object): Promise<unknown> {
    return this.queue.run(() => this.reserved((deadline) => this.request(request, deadline)));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    return this.reserved(fn);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Callers waiting for the device, and a connect in progress, fail now rather than at their timeout.
    this.inflight?.abort(transportClosed(this.endpoint));
    this.drop(true);
    const closed = this.handOver();
    this.holder?.close(() => transportClosed(this.endpoint), closed);
    await closed;
  }

  /** Closes the idle connection; settles once every connection closed so far is gone. */
  async handOver(): Promise<void> {
    this.drop(true);
    await Promise.all([...this.closes]);
  }

  /** Runs `fn` within one request timeout from now, holding the device when it is shared. */
  private reserved<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(transportClosed(this.endpoint));
    const deadline = Date.now() + this.requestTimeoutMs;
    const run = () => (this.closed ? Promise.reject(transportClosed(this.endpoint)) : fn(deadline));
    return this.holder ? this.holder.use(deadline, run) : run();
  }

  /** One request, up to `deadline`: connecting (and once more when a kept connection was closed) and the reply. */
  private async request(request: object, deadline: number): Promise<unknown> {
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
      return JSON.parse(payload.toString('utf8')) as unknown;
    } catch (err) {
      // The frame was fine but its content is not: nothing on this connection can be trusted.
      this.drop();
      throw new TplinkProtocolError(this.endpoint, 'bad-json', `reply of ${payload.length} bytes is not JSON`, err);
    }
  }

  private async exchange(frame: Buffer, deadline: number, signal: AbortSignal): Promise<Buffer> {
    const kept = this.connection?.open === true ? this.connection : undefined;
    if (!kept) await this.connect(deadline, signal);
    try {
      return await this.roundTrip(frame);
    } catch (err) {
      if (!kept?.unanswered || Date.now() >= deadline) throw err;
      // The device closed the kept connection (some firmware closes after every reply): once more, fresh.
      this.log.debug('the device closed the kept connection; reconnecting once');
      await this.connect(deadline, signal);
      return await this.roundTrip(frame);
    }
  }

  private async connect(deadline: number, signal: AbortSignal): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.connectTimeoutMs, deadline - Date.now()));
    this.stats.connections++;
    this.connection = await Connection.open(this, timeoutMs, signal);
  }

  private roundTrip(frame: Buffer): Promise<Buffer> {
    this.stats.requests++;
    return this.connection?.roundTrip(frame) ?? Promise.reject(connectionReset(this.endpoint, 'connection closed before the request'));
  }

  /** Between requests: the kept connection must not keep the process alive, and closes after the idle period. */
  private idle(): void {
    const connection = this.connection;
    if (connection?.open !== true) return;
    connection.park();
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.drop(true), this.idleTimeoutMs);
    this.idleTimer.unref();
  }

  /** Closes the connection (failing a pending round trip); `graceful` lets the device close its side first. */
  private drop(graceful = false): void {
    clearTimeout(this.idleTimer);
    this.connection?.close(graceful);
    this.connection = undefined;
  }

  /** @internal A socket's close, waited for before the device is handed over. */
  trackClose(closed: Promise<void>): void {
    this.closes.add(closed);
    void closed.then(() => this.closes.delete(closed));
  }

}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: TplinkError) => void;
  gotBytes: boolean;
}

/** One TCP connection: one request/reply round trip at a time. */
class Connection {
  private readonly decoder: FrameDecoder;
  private pending: Pending | undefined;
  private gone = false;
  /** It went away before any reply byte: the device closed it, and a fresh one may work. */
  unanswered = false;

  private constructor(
    private readonly socket: Socket,
    private readonly transport: XorTransport,
  ) {
    this.decoder = new FrameDecoder({ maxLength: transport.maxFrameLength });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.onGone(err));
    socket.on('end', () => this.onGone());
    socket.on('close', () => this.onGone());
  }

  /** Connects within `timeoutMs`; `signal` aborting fails the connect with its reason. */
  static open(transport: XorTransport, timeoutMs: number, signal: AbortSignal): Promise<Connection> {
    const { endpoint } = transport;
    // The signal's reason: the request timeout, or the transport closing.
    const aborted = () => signal.reason as TplinkError;
    return new Promise<Connection>((resolve, reject) => {
      if (signal.aborted) return reject(aborted());
      const socket = transport.socketFactory({ host: endpoint.host, port: endpoint.port });
      const fail = (err: TplinkError) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        transport.trackClose(socketClosed(socket));
        reject(err);
      };
      const onAbort = () => fail(aborted());
      const onError = (err: Error) => fail(mapSocketError(endpoint, err, 'connect', timeoutMs));
      const timer = setTimeout(() => fail(new TplinkTimeoutError(endpoint, 'connect', timeoutMs)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new Connection(socket, transport));
      });
    });
  }

  get open(): boolean {
    return !this.gone;
  }

  /** Sends one frame and resolves with the decrypted payload of the one reply frame. */
  roundTrip(frame: Buffer): Promise<Buffer> {
    if (this.gone) return Promise.reject(connectionReset(this.transport.endpoint, 'connection closed before the request'));
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject, gotBytes: false };
      this.decoder.reset();
      this.socket.ref();
      this.socket.write(frame);
    });
  }

  park(): void {
    this.socket.unref();
  }

  /** Fails a pending round trip; `graceful` ends the socket and waits (briefly) for the device to close its side. */
  close(graceful = false): void {
    const wasGone = this.gone;
    this.gone = true;
    this.fail(connectionReset(this.transport.endpoint, 'connection closed by the client'));
    const closed = socketClosed(this.socket);
    if (graceful && !wasGone && !this.socket.destroyed) {
      this.socket.ref(); // a pending close must not be cut short by the process exiting
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS);
      void closed.then(() => clearTimeout(timer));
    } else {
      this.socket.destroy();
    }
    this.transport.trackClose(closed);
  }

  private fail(err: TplinkError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private onData(chunk: Buffer): void {
    if (this.gone) return;
    const pending = this.pending;
    if (pending === undefined) {
      this.transport.log.warn('unexpected data from the device; closing the connection', { bytes: chunk.length });
      return this.close();
    }
    pending.gotBytes = true;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.pending = undefined;
      this.close();
      return pending.reject(new TplinkProtocolError(this.transport.endpoint, 'oversize', (err as Error).message, err));
    }
    const { stats } = this.transport;
    stats.peakBufferedBytes = Math.max(stats.peakBufferedBytes, this.decoder.bufferedBytes);
    if (frames.length === 0) return;
    this.pending = undefined;
    if (frames.length > 1 || this.decoder.inFrame) {
      this.close();
      return pending.reject(new TplinkProtocolError(this.transport.endpoint, 'bad-frame', 'more data than one reply frame'));
    }
    pending.resolve(frames[0]!);
  }

  private onGone(err?: Error): void {
    if (this.gone) return;
    this.gone = true;
    const { endpoint } = this.transport;
    const { pending, decoder } = this;
    const expected = decoder.expectedLength;
    const buffered = decoder.bufferedBytes;
    this.pending = undefined;
    this.socket.destroy();
    this.transport.trackClose(socketClosed(this.socket));
    if (err !== undefined && !isResetCode((err as NodeJS.ErrnoException).code)) {
      pending?.reject(mapSocketError(endpoint, err, 'request', this.transport.requestTimeoutMs));
    } else if (pending?.gotBytes !== true) {
      this.unanswered = true;
      pending?.reject(connectionReset(endpoint, 'connection closed before the reply', err));
    } else {
      const progress = expected === undefined ? `${buffered} header bytes` : `${buffered - 4} of ${expected} reply bytes`;
      pending.reject(connectionReset(endpoint, `connection closed after ${progress}`, err));
    }
  }
}

function socketClosed(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}
