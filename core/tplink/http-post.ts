/**
 * One HTTP POST to a device (KLAP and AES both speak HTTP/1.1 on port 80), over a keep-alive agent
 * so a session's requests share one TCP connection. The reply body is bounded; failures become
 * TplinkErrors naming the device.
 */
import http from 'node:http';
import {
  TplinkConnectionResetError,
  TplinkError,
  TplinkProtocolError,
  TplinkTimeoutError,
  type TplinkEndpoint,
} from './errors';
import { mapSocketError } from './socket-errors';

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
  agent: http.Agent;
  /** Fails the request with its reason (a TplinkError) when it aborts. */
  signal: AbortSignal;
  /** Largest reply body accepted. */
  maxBodyBytes: number;
  /** Named in errors. */
  requestTimeoutMs: number;
}

/**
 * A keep-alive agent for one device: one socket, so requests of a session reuse it; no Nagle
 * delay (a small request must not wait for the ACK of the one before).
 */
export function createDeviceAgent(): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 1000, noDelay: true });
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

export function httpPost(options: HttpPostOptions): Promise<HttpReply> {
  const { endpoint, signal } = options;
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  return new Promise<HttpReply>((resolve, reject) => {
    let settled = false;
    const finish = (err: TplinkError | undefined, reply?: HttpReply) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) {
        request.destroy();
        reject(err);
      } else resolve(reply!);
    };
    const onAbort = () => {
      const reason: unknown = signal.reason;
      finish(reason instanceof TplinkError ? reason : new TplinkTimeoutError(endpoint, 'request', options.requestTimeoutMs));
    };
    const request = http.request({
      host: endpoint.host,
      port: endpoint.port,
      method: 'POST',
      path: options.path,
      agent: options.agent,
      headers: { 'Content-Length': String(body.length), ...options.headers },
    });
    request.on('error', (err) => finish(mapSocketError(endpoint, err, 'request', options.requestTimeoutMs)));
    request.on('response', (response) => {
      const declared = Number(response.headers['content-length'] ?? '0');
      if (declared > options.maxBodyBytes) {
        finish(tooLarge(endpoint, `declares ${declared}`, options.maxBodyBytes));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      response.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > options.maxBodyBytes) finish(tooLarge(endpoint, `exceeds`, options.maxBodyBytes));
        else chunks.push(chunk);
      });
      response.on('aborted', () => finish(new TplinkConnectionResetError(endpoint, `reply cut short after ${length} bytes`)));
      response.on('error', (err) => finish(mapSocketError(endpoint, err, 'request', options.requestTimeoutMs)));
      response.on('end', () => {
        if (!response.complete) {
          finish(new TplinkConnectionResetError(endpoint, `reply cut short after ${length} bytes`));
          return;
        }
        const setCookie = response.headers['set-cookie'];
        finish(undefined, { status: response.statusCode ?? 0, body: Buffer.concat(chunks, length), cookies: parseCookies(setCookie) });
      });
    });
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    request.end(body);
  });
}

function tooLarge(endpoint: TplinkEndpoint, what: string, max: number): TplinkProtocolError {
  return new TplinkProtocolError(endpoint, 'oversize', `reply body ${what} the limit of ${max} bytes`);
}
