/**
 * The HTTP side of a simulated KLAP or AES device: a server on 127.0.0.1 (port 0 = any free
 * port), bounded request bodies, counters, faults a test can switch on at any time, and the
 * cookie sessions both transports keep.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KLAP_SESSION_COOKIE, type Credentials } from '../../core/tplink/klap-crypto';
import { closeServer, listen } from '../http-server';

export interface DeviceFaults {
  /** KLAP: handshake 1 proves other credentials (the client must refuse, fast). */
  wrongServerHash?: boolean;
  /** KLAP handshake 1 answers 403 (a Tapo device with "Third-Party Compatibility" off). */
  forbidHandshake?: boolean;
  /** Every request (after the handshake) answers 403. */
  forbidRequests?: boolean;
  /** Replies are corrupted (bad padding or signature). */
  corruptReply?: boolean;
  /** The reply declares more bytes than it sends, then the connection closes. */
  truncateReply?: boolean;
  /** The reply body is this many bytes. */
  hugeReplyBytes?: number;
  /** Never answers (the connection stays open). */
  silent?: boolean;
  /** Sessions end this long after their handshake although the cookie says 24 h. */
  sessionTtlMs?: number;
  /** A session accepts one request only (some IOT firmware). */
  oneRequestPerSession?: boolean;
  /**
   * The firmware moved to TPAP (advertised on this port): KLAP's handshake 1 answers 403, and
   * discovery (UDP and `POST /`) says `tpap_preferred` with `tpap {tls, port, pake}`.
   */
  tpap?: { port: number };
}

/** What a TPAP device's discover answers carry in `result` (UDP and HTTP alike). */
export function tpapDiscoverFields(tpap: { port: number }): Record<string, unknown> {
  return { tpap_preferred: true, tpap: { tls: 0, dac: 1, noc: 1, pake: [2], port: tpap.port } };
}

export interface DeviceServerStats {
  handshakes: number;
  requests: number;
  /** HTTP requests of any kind. */
  http: number;
  /** TCP connections accepted. */
  connections: number;
  /** Connections that sent something other than HTTP (an XOR probe): answered 400, closed. */
  notHttp: number;
  /** HTTP requests to a path this device does not serve (a KLAP probe of an AES device): 404. */
  notFound: number;
}

export interface HttpDeviceServer {
  host: string;
  port: number;
  faults: DeviceFaults;
  stats: DeviceServerStats;
  /** Ends every session now, as a device does after its TIMEOUT or a reboot. */
  endSessions(): void;
  close(): Promise<void>;
}

/** What a simulated KLAP or AES device is started with. */
export interface DeviceServerOptions {
  credentials: Credentials;
  /** Answers one decrypted request (IOT or SMART JSON). */
  handle: (request: unknown) => unknown;
  host?: string;
  port?: number;
  /** The TIMEOUT cookie, in seconds. */
  timeoutSeconds?: number;
  faults?: DeviceFaults;
}

/** Sessions by their cookie (both transports call it TP_SESSIONID), each from its handshake on. */
export class DeviceSessions<S extends { createdAt: number }> {
  private readonly byId = new Map<string, S>();

  constructor(readonly faults: DeviceFaults) {}

  /** Keeps a new session; the answer's Set-Cookie header for it. */
  open(session: S, timeoutSeconds: number): Record<string, string> {
    const id = randomBytes(16).toString('hex').toUpperCase();
    this.byId.set(id, session);
    return { 'Set-Cookie': `${KLAP_SESSION_COOKIE}=${id};TIMEOUT=${timeoutSeconds}` };
  }

  /** The session a request's cookie names, if any. */
  of(cookies: Map<string, string>): S | undefined {
    return this.byId.get(cookies.get(KLAP_SESSION_COOKIE) ?? '');
  }

  /** Whether the `sessionTtlMs` fault has ended it. */
  expired(session: S | undefined): boolean {
    return session !== undefined && this.faults.sessionTtlMs !== undefined && Date.now() - session.createdAt > this.faults.sessionTtlMs;
  }

  clear(): void {
    this.byId.clear();
  }
}

/** The JSON in `text()`; undefined when making the text (decrypting it) or parsing it fails. */
export function jsonOf(text: () => string): unknown {
  try {
    return JSON.parse(text());
  } catch {
    return undefined;
  }
}

/** Flips the last byte of the next-to-last AES block: the padding of the last block is then always wrong. */
export function corruptPadding(ciphertext: Buffer): void {
  const at = ciphertext.length - 17;
  ciphertext.writeUInt8(ciphertext.readUInt8(at) ^ 0xff, at);
}

export interface Answer {
  status: number;
  body?: Buffer | string;
  headers?: Record<string, string>;
}

const MAX_REQUEST_BYTES = 64 * 1024;

/** Starts a KLAP or AES device's server: `route` answers each POST (path with query, body, cookies). */
export async function startSessionDeviceServer<S extends { createdAt: number }>(
  route: (path: string, body: Buffer, cookies: Map<string, string>) => Answer,
  sessions: DeviceSessions<S>,
  options: DeviceServerOptions,
): Promise<HttpDeviceServer> {
  const { faults } = sessions;
  const stats: DeviceServerStats = { handshakes: 0, requests: 0, http: 0, connections: 0, notHttp: 0, notFound: 0 };
  const server = http.createServer((req, res) => {
    stats.http++;
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_REQUEST_BYTES) req.destroy();
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (faults.silent) return;
      const answer = route(req.url ?? '/', Buffer.concat(chunks), cookiesOf(req.headers.cookie));
      if (answer.status === 404) stats.notFound++;
      send(res, answer, faults);
    });
  });
  server.on('connection', () => stats.connections++);
  // Counted, then what Node does without a listener: 400 and close.
  server.on('clientError', (_err, socket) => {
    stats.notHttp++;
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.keepAliveTimeout = 5000;
  const port = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const host = (server.address() as AddressInfo).address;
  return { host, port, faults, stats, endSessions: () => sessions.clear(), close: () => closeServer(server) };
}

function send(res: http.ServerResponse, answer: Answer, faults: DeviceFaults): void {
  let body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : (answer.body ?? Buffer.alloc(0));
  if (answer.status === 200 && faults.hugeReplyBytes !== undefined) body = Buffer.alloc(faults.hugeReplyBytes, 0x41);
  res.writeHead(answer.status, { ...answer.headers, 'Content-Length': String(body.length) });
  if (answer.status === 200 && faults.truncateReply && body.length > 1) {
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    setImmediate(() => res.socket?.destroy());
    return;
  }
  res.end(body);
}

function cookiesOf(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}
