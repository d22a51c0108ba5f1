/**
 * HTTP POSTs to a device (KLAP and AES both speak HTTP/1.1 on port 80) over one kept-alive TCP
 * connection per device, reopened when the device has closed it. Our own small client rather than
 * node:http: the device needs one request shape and one reply at a time, and node:http's general
 * machinery cost half of a warm toggle's time against the simulated P110 (docs/performance.md).
 * The reply body is bounded; failures become TplinkErrors naming the device.
 */
import net, { type Socket } from 'node:net';
import { TplinkConnectionResetError, TplinkProtocolError, type TplinkEndpoint, type TplinkError } from './errors';
import type { SocketFactory } from './framed-connection';
import { HttpReplyError, HttpReplyParser, type ParsedReply } from './http-reply-parser';
import { abortError, mapSocketError } from './socket-errors';

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
  /** Fails the request with its reason (a TplinkError) when it aborts. */
  signal: AbortSignal;
  /** Largest reply body accepted. */
  maxBodyBytes: number;
  /** Named in errors. */
  requestTimeoutMs: number;
}

export function parseCookies(headers: string[] | undefined): Map<string, string> {
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

/**
 * One device's kept-alive connection: one request at a time (later ones wait their turn); an idle
 * socket does not keep the process alive.
 */
export class DeviceConnection {
  private socket: Socket | undefined;
  private turn: Promise<unknown> = Promise.resolve();

  constructor(private readonly socketFactory: SocketFactory = defaultSocketFactory) {}

  post(options: HttpPostOptions): Promise<HttpReply> {
    const run = this.turn.then(() => this.exchange(options));
    this.turn = run.catch(() => undefined);
    return run;
  }

  /** Whether a connection is kept (the device has not closed it). */
  get open(): boolean {
    return this.socket !== undefined;
  }

  /** Closes the kept connection, if any. */
  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private async exchange(options: HttpPostOptions): Promise<HttpReply> {
    const { endpoint, signal } = options;
    if (signal.aborted) throw abortError(endpoint, signal, options.requestTimeoutMs);
    const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
    const request = Buffer.concat([requestHead(options, body.length), body]);
    const socket = this.socket ?? this.connect(endpoint);
    return new Promise<HttpReply>((resolve, reject) => {
      const parser = new HttpReplyParser(options.maxBodyBytes);
      const done = (err: TplinkError | undefined, reply?: ParsedReply) => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.off('error', onError);
        signal.removeEventListener('abort', onAbort);
        if (err || !reply!.keepAlive) this.discard(socket);
        else socket.unref();
        if (err) reject(err);
        else resolve({ status: reply!.status, body: reply!.body, cookies: parseCookies(reply!.headers.get('set-cookie')) });
      };
      const settle = (read: () => ParsedReply | undefined) => {
        let reply: ParsedReply | undefined;
        try {
          reply = read();
        } catch (err) {
          done(replyError(endpoint, err));
          return;
        }
        if (reply) done(undefined, reply);
      };
      const onData = (chunk: Buffer) => settle(() => parser.push(chunk));
      const onEnd = () => settle(() => parser.end());
      const onError = (err: Error) => done(mapSocketError(endpoint, err, 'request', options.requestTimeoutMs));
      const onAbort = () => done(abortError(endpoint, signal, options.requestTimeoutMs));
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onEnd);
      socket.on('error', onError);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.ref();
      socket.write(request);
    });
  }

  private connect(endpoint: TplinkEndpoint): Socket {
    const socket = this.socketFactory({ host: endpoint.host, port: endpoint.port });
    // Between requests: the device closing the kept connection only means the next one opens anew.
    socket.on('error', () => undefined);
    socket.on('close', () => this.forget(socket));
    socket.on('end', () => this.forget(socket));
    this.socket = socket;
    return socket;
  }

  private forget(socket: Socket): void {
    if (this.socket === socket) this.socket = undefined;
  }

  private discard(socket: Socket): void {
    this.forget(socket);
    socket.destroy();
  }
}

/** Host and Content-Length are ours; a line break in a value (a cookie the device set) is refused, not sent. */
function requestHead(options: HttpPostOptions, length: number): Buffer {
  const { endpoint } = options;
  let head = `POST ${options.path} HTTP/1.1\r\nHost: ${endpoint.host}:${endpoint.port}\r\nContent-Length: ${length}\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/^(host|content-length)$/i.test(name)) continue;
    if (/[\r\n]/.test(name + value + options.path)) {
      throw new TplinkProtocolError(endpoint, 'unexpected-reply', `request header ${name} would contain a line break`);
    }
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n`, 'latin1');
}

function replyError(endpoint: TplinkEndpoint, err: unknown): TplinkError {
  if (!(err instanceof HttpReplyError)) return new TplinkProtocolError(endpoint, 'unexpected-reply', String(err), err);
  if (err.reason === 'cut-short') return new TplinkConnectionResetError(endpoint, err.message);
  return new TplinkProtocolError(endpoint, err.reason === 'oversize' ? 'oversize' : 'unexpected-reply', err.message, err);
}

/** One POST on the device's connection. */
export function httpPost(options: HttpPostOptions): Promise<HttpReply> {
  return options.connection.post(options);
}
