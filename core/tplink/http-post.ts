/**
 * HTTP POSTs to a device (KLAP and AES speak HTTP/1.1 on port 80) over one kept-alive TCP connection
 * per device, reopened when the device closed it. Not node:http: its general machinery cost half of a
 * warm toggle's time against the simulated P110 (docs/performance.md). Reply bodies are bounded.
 */
import net, { type Socket } from 'node:net';
import { connectionReset, mapSocketError, TplinkProtocolError, TplinkTimeoutError, type TplinkEndpoint, type TplinkError } from './errors';
import { HttpReplyError, HttpReplyParser, type ParsedReply } from './http-reply-parser';
import type { SocketFactory } from './xor-transport';
import { formatHostPort } from '../util/host-port';
import { SerialQueue } from '../util/serial-queue';

export interface HttpReply {
  status: number;
  body: Buffer;
  /** Every `name=value` pair of every Set-Cookie header (attributes included, e.g. TIMEOUT). */
  cookies: Map<string, string>;
}

export interface HttpPostOptions {
  endpoint: TplinkEndpoint;
  path: string;
  body: Buffer | string;
  headers?: Record<string, string>;
  connection: DeviceConnection;
  /** `Date.now()` by which the reply must be complete, else a request timeout naming `requestTimeoutMs`. */
  deadline: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
  /** Who sends it: {@link DeviceConnection.cancel} fails only its owner's post. */
  owner?: object;
}

function parseCookies(headers: string[] | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const header of headers ?? []) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
  }
  return cookies;
}

const defaultSocketFactory: SocketFactory = ({ host, port }) => net.createConnection({ host, port, noDelay: true });

interface Pending {
  socket: Socket;
  options: HttpPostOptions;
  parser: HttpReplyParser;
  resolve: (reply: HttpReply) => void;
  reject: (err: TplinkError) => void;
}

/** One device's kept-alive connection, one request at a time; listeners are made once (their cost showed). */
export class DeviceConnection {
  private socket: Socket | undefined;
  private readonly turn = new SerialQueue();
  private pending: Pending | undefined;
  /** Owners whose posts were cancelled (a closed transport's queued posts are not sent). */
  private readonly cancelled = new WeakMap<object, TplinkError>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimeout = () => {
    const options = this.pending?.options;
    if (options) this.finish(new TplinkTimeoutError(options.endpoint, 'request', options.requestTimeoutMs));
  };

  constructor(private readonly socketFactory: SocketFactory = defaultSocketFactory) {}

  post(options: HttpPostOptions): Promise<HttpReply> {
    return this.turn.run(() => this.exchange(options));
  }

  /** Fails `owner`'s post in flight, if any, and its later ones with `reason` (the connection is not reused). */
  cancel(owner: object, reason: TplinkError): void {
    this.cancelled.set(owner, reason);
    if (this.pending !== undefined && this.pending.options.owner === owner) this.finish(reason);
  }

  /** Whether a connection is kept (the device has not closed it). */
  get open(): boolean {
    return this.socket !== undefined;
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private async exchange(options: HttpPostOptions): Promise<HttpReply> {
    const cancelled = options.owner === undefined ? undefined : this.cancelled.get(options.owner);
    if (cancelled) throw cancelled;
    const left = options.deadline - Date.now();
    if (left <= 0) throw new TplinkTimeoutError(options.endpoint, 'request', options.requestTimeoutMs);
    const request = requestBytes(options);
    const socket = this.socket ?? this.connect(options.endpoint);
    return new Promise<HttpReply>((resolve, reject) => {
      this.pending = { socket, options, parser: new HttpReplyParser(options.maxBodyBytes), resolve, reject };
      this.timer = setTimeout(this.onTimeout, left);
      socket.ref();
      socket.write(request);
    });
  }

  private connect(endpoint: TplinkEndpoint): Socket {
    const socket = this.socketFactory({ host: endpoint.host, port: endpoint.port });
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    // Between requests: the device closing the kept connection only means the next one opens anew.
    socket.on('end', () => this.onEnd(socket));
    socket.on('close', () => this.onEnd(socket));
    socket.on('error', (err: Error) => this.onError(socket, err));
    this.socket = socket;
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    const pending = this.pending;
    // Bytes nobody asked for: the connection is out of step, so it is not reused.
    if (pending?.socket !== socket) this.discard(socket);
    else this.settle(pending, () => pending.parser.push(chunk));
  }

  private onEnd(socket: Socket): void {
    this.forget(socket);
    const pending = this.pending;
    if (pending?.socket === socket) this.settle(pending, () => pending.parser.end());
  }

  private onError(socket: Socket, err: Error): void {
    const pending = this.pending;
    if (pending?.socket === socket) this.finish(mapSocketError(pending.options.endpoint, err, 'request', pending.options.requestTimeoutMs));
  }

  private settle(pending: Pending, read: () => ParsedReply | undefined): void {
    let reply: ParsedReply | undefined;
    try {
      reply = read();
    } catch (err) {
      this.finish(replyError(pending.options.endpoint, err));
      return;
    }
    if (reply) this.finish(undefined, reply);
  }

  private finish(err: TplinkError | undefined, reply?: ParsedReply): void {
    const pending = this.pending!;
    this.pending = undefined;
    clearTimeout(this.timer);
    if (err || !reply!.keepAlive) this.discard(pending.socket);
    else pending.socket.unref();
    if (err) pending.reject(err);
    else pending.resolve({ status: reply!.status, body: reply!.body, cookies: parseCookies(reply!.headers.get('set-cookie')) });
  }

  private forget(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
  }

  private discard(socket: Socket): void {
    this.forget(socket);
    socket.destroy();
  }
}

/** The request in one write; a line break in a header (a cookie the device set) is refused, not sent. */
function requestBytes(options: HttpPostOptions): Buffer {
  const { endpoint } = options;
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  let head = `POST ${options.path} HTTP/1.1\r\nHost: ${formatHostPort(endpoint.host, endpoint.port)}\r\nContent-Length: ${body.length}\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/^(host|content-length)$/i.test(name)) continue;
    if (/[\r\n]/.test(name + value + options.path)) {
      throw new TplinkProtocolError(endpoint, 'unexpected-reply', `request header ${name} would contain a line break`);
    }
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
}

function replyError(endpoint: TplinkEndpoint, err: unknown): TplinkError {
  if (!(err instanceof HttpReplyError)) return new TplinkProtocolError(endpoint, 'unexpected-reply', String(err), err);
  if (err.reason === 'cut-short') return connectionReset(endpoint, err.message);
  return new TplinkProtocolError(endpoint, err.reason === 'oversize' ? 'oversize' : 'unexpected-reply', err.message, err);
}

/** One POST on the device's connection. */
export function httpPost(options: HttpPostOptions): Promise<HttpReply> {
  return options.connection.post(options);
}
