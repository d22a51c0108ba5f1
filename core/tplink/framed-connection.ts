/**
 * One TCP connection to a device speaking length-prefixed autokey-XOR frames: connect with a
 * timeout and an abort signal, one request/reply round trip at a time, and a close that settles
 * once the socket is really gone. Leasing, queueing and reconnects are the transport's business.
 */
import type { Socket } from 'node:net';
import { FrameDecoder } from './codec';
import type {
  TplinkError} from './errors';
import {
  FrameTooLargeError,
  TplinkConnectionResetError,
  TplinkProtocolError,
  TplinkTimeoutError,
  type TplinkEndpoint,
} from './errors';
import { abortError, isResetCode, mapSocketError } from './socket-errors';
import type { Logger } from '../logger';

/** Opens a TCP connection; the default is `net.createConnection`. Tests may wrap it to count. */
export type SocketFactory = (options: { host: string; port: number }) => Socket;

/** How long a graceful close waits for the device to close its side before destroying the socket. */
const GRACEFUL_CLOSE_MS = 250;

/** A round trip failed because a reused connection closed before any reply byte: a fresh one may work. */
export class ClosedBeforeReply extends TplinkConnectionResetError {}

export interface FramedConnectionOptions {
  endpoint: TplinkEndpoint;
  socketFactory: SocketFactory;
  maxFrameLength: number;
  /** Named in the errors of a failed request. */
  requestTimeoutMs: number;
  log: Logger;
  /** Called with every opened socket's close (the device is handed over only once it is gone). */
  trackClose: (closed: Promise<void>) => void;
  /** The device closed the connection while no request was pending. */
  onIdleClose: () => void;
  /** Reports the bytes of an incomplete reply held after each chunk. */
  onBuffered?: (bytes: number) => void;
}

interface Pending {
  resolve: (payload: Buffer) => void;
  reject: (err: TplinkError) => void;
  gotBytes: boolean;
}

export class FramedConnection {
  private readonly decoder: FrameDecoder;
  private pending: Pending | undefined;
  private gone = false;

  private constructor(
    private readonly socket: Socket,
    private readonly options: FramedConnectionOptions,
  ) {
    this.decoder = new FrameDecoder({ maxLength: options.maxFrameLength });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.onGone(err));
    socket.on('end', () => this.onGone());
    socket.on('close', () => this.onGone());
  }

  /** Connects within `timeoutMs`; `signal` aborting fails the connect with its reason. */
  static open(options: FramedConnectionOptions, timeoutMs: number, signal: AbortSignal): Promise<FramedConnection> {
    const { endpoint } = options;
    return new Promise<FramedConnection>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(endpoint, signal, options.requestTimeoutMs));
        return;
      }
      const socket = options.socketFactory({ host: endpoint.host, port: endpoint.port });
      const fail = (err: TplinkError) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        options.trackClose(socketClosed(socket));
        reject(err);
      };
      const onAbort = () => fail(abortError(endpoint, signal, options.requestTimeoutMs));
      const onError = (err: Error) => fail(mapSocketError(endpoint, err, 'connect', timeoutMs));
      const timer = setTimeout(() => fail(new TplinkTimeoutError(endpoint, 'connect', timeoutMs)), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.setNoDelay(true);
        resolve(new FramedConnection(socket, options));
      });
    });
  }

  /** Whether the socket is still usable. */
  get open(): boolean {
    return !this.gone;
  }

  /** Sends one frame and resolves with the decrypted payload of the one reply frame. */
  roundTrip(frame: Buffer): Promise<Buffer> {
    if (this.gone) {
      return Promise.reject(new ClosedBeforeReply(this.options.endpoint, 'connection closed before the request'));
    }
    return new Promise<Buffer>((resolve, reject) => {
      this.pending = { resolve, reject, gotBytes: false };
      this.decoder.reset();
      this.socket.ref();
      this.socket.write(frame);
    });
  }

  /** Idle: never keep the process alive for this connection. */
  park(): void {
    this.socket.unref();
  }

  /**
   * Closes the connection, failing a pending round trip: `graceful` ends it and waits (briefly) for
   * the device to close its side, otherwise it is destroyed. The returned promise settles once closed.
   */
  close(graceful = false): Promise<void> {
    const wasGone = this.gone;
    this.gone = true;
    this.decoder.reset();
    this.failPending(new TplinkConnectionResetError(this.options.endpoint, 'connection closed by the client'));
    const closed = socketClosed(this.socket);
    if (graceful && !wasGone && !this.socket.destroyed) {
      this.socket.ref(); // a pending close must not be cut short by the process exiting
      this.socket.end();
      const timer = setTimeout(() => this.socket.destroy(), GRACEFUL_CLOSE_MS);
      void closed.then(() => clearTimeout(timer));
    } else {
      this.socket.destroy();
    }
    this.options.trackClose(closed);
    return closed;
  }

  private failPending(err: TplinkError): void {
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(err);
  }

  private onData(chunk: Buffer): void {
    if (this.gone) return;
    const pending = this.pending;
    if (pending === undefined) {
      this.options.log.warn('unexpected data from the device; closing the connection', { bytes: chunk.length });
      void this.close();
      return;
    }
    pending.gotBytes = true;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      const detail = err instanceof FrameTooLargeError ? err.message : 'undecodable frame';
      this.pending = undefined;
      void this.close();
      pending.reject(new TplinkProtocolError(this.options.endpoint, 'oversize', detail, err));
      return;
    }
    this.options.onBuffered?.(this.decoder.bufferedBytes);
    if (frames.length === 0) return;
    this.pending = undefined;
    if (frames.length > 1 || this.decoder.inFrame) {
      void this.close();
      pending.reject(new TplinkProtocolError(this.options.endpoint, 'bad-frame', 'more data than one reply frame'));
      return;
    }
    pending.resolve(frames[0]!);
  }

  private onGone(err?: Error): void {
    if (this.gone) return;
    this.gone = true;
    const { endpoint } = this.options;
    const pending = this.pending;
    const expected = this.decoder.expectedLength;
    const buffered = this.decoder.bufferedBytes;
    this.pending = undefined;
    this.socket.destroy();
    this.options.trackClose(socketClosed(this.socket));
    if (pending === undefined) {
      // Closed while idle: the next request opens a new connection.
      this.options.onIdleClose();
      return;
    }
    if (!pending.gotBytes && (err === undefined || isResetCode(err))) {
      pending.reject(new ClosedBeforeReply(endpoint, 'connection closed before the reply', err));
    } else if (err !== undefined && !isResetCode(err)) {
      pending.reject(mapSocketError(endpoint, err, 'request', this.options.requestTimeoutMs));
    } else {
      const progress = expected === undefined ? `${buffered} header bytes` : `${buffered - 4} of ${expected} reply bytes`;
      pending.reject(new TplinkConnectionResetError(endpoint, `connection closed after ${progress}`, err));
    }
  }
}

function socketClosed(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.closed) resolve();
    else socket.once('close', () => resolve());
  });
}
