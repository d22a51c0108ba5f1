/**
 * The dashboard's HTTP server on 127.0.0.1: the page, a server-sent event stream, a read-only
 * shadow endpoint and three POST actions, each a function it is given; request-guard.ts decides
 * who may ask. node:http is enough for four routes and a stream.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { errorMessage, ShadowplugError } from '../../core/errors';
import type { Asset } from './assets';
import { isObject } from '../../core/util/guards';
import { formatHostPort } from '../../core/util/host-port';
import { DashboardRequestError } from '../errors';
import { closeServer, guardRequests, hardenServer, listen, readBody, serverOptions } from '../http-server';
import { checkHost, checkStateChange, type RequestFacts } from './request-guard';
import type { ClickTypeName, PlugView, ServerMessage, ShadowResponse, Snapshot } from './view';

export interface DashboardActions {
  snapshot(): Snapshot;
  /** Calls `listener` with every message after this one; returns the unsubscribe. */
  subscribe(listener: (message: ServerMessage) => void): () => void;
  shadow(thing: string): Promise<ShadowResponse>;
  toggle(child?: number): Promise<PlugView>;
  click(type: ClickTypeName): Promise<{ summary: string }>;
  upload(request: { name: string; thing?: string; size: number; body: Readable }): Promise<{ key: string; url: string; size: number; sha256: string; release: number }>;
}


/** A client further behind than this is dropped; its EventSource reconnects and gets a fresh snapshot. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;
const MAX_JSON_BYTES = 4 * 1024;
/** S3's limit for one PUT. */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 3;

const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function facts(req: IncomingMessage): RequestFacts {
  const h = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
  return { method: req.method ?? 'GET', host: h('host'), origin: h('origin'), fetchSite: h('sec-fetch-site') };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new DashboardRequestError(415, 'send JSON (Content-Type: application/json)');
  const body = await readBody(req, MAX_JSON_BYTES);
  if (!body) throw new DashboardRequestError(413, `a request body may be at most ${MAX_JSON_BYTES} bytes`);
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (!isObject(value)) throw new Error('not an object');
    return value;
  } catch (err) {
    throw new DashboardRequestError(400, `the body is not a JSON object (${errorMessage(err)})`);
  }
}

function stream(req: IncomingMessage, res: ServerResponse, actions: DashboardActions): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
  const write = (message: ServerMessage) => {
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      res.destroy();
      return;
    }
    res.write(`data: ${JSON.stringify(message)}\n\n`);
  };
  write({ kind: 'snapshot', snapshot: actions.snapshot() });
  const unsubscribe = actions.subscribe(write);
  const heartbeat = setInterval(() => res.write(': still here\n\n'), HEARTBEAT_MS);
  req.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}

async function post(path: string, req: IncomingMessage, url: URL, actions: DashboardActions): Promise<unknown> {
  switch (path) {
    case '/api/plug/toggle': {
      const { child } = await readJson(req);
      if (child !== undefined && !(Number.isInteger(child) && (child as number) >= 0)) throw new DashboardRequestError(400, `child must be an outlet index (got ${JSON.stringify(child)})`);
      return { plug: await actions.toggle(child as number | undefined) };
    }
    case '/api/button': {
      const { type } = await readJson(req);
      if (type !== 'SINGLE' && type !== 'DOUBLE' && type !== 'LONG') throw new DashboardRequestError(400, `type must be SINGLE, DOUBLE or LONG (got ${JSON.stringify(type)})`);
      return actions.click(type);
    }
    case '/api/upload': {
      const size = Number(req.headers['content-length']);
      if (req.headers['content-length'] === undefined || !Number.isSafeInteger(size)) throw new DashboardRequestError(411, 'an upload needs a Content-Length');
      if (size > MAX_UPLOAD_BYTES) throw new DashboardRequestError(413, `a file may be at most ${MAX_UPLOAD_BYTES} bytes (S3's limit for one PUT); this one is ${size}`);
      const name = url.searchParams.get('name') ?? '';
      const thing = url.searchParams.get('thing') || undefined;
      return actions.upload({ name, ...(thing !== undefined ? { thing } : {}), size, body: req });
    }
    default:
      throw new DashboardRequestError(404, `no action at POST ${path}`);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, port: number, assets: Map<string, Asset>, actions: DashboardActions): Promise<void> {
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  const path = url.pathname;
  const f = facts(req);
  const host = checkHost(f, port);
  if (!host.ok) throw new DashboardRequestError(host.status, host.reason);
  if (path.startsWith('/api/') && f.method === 'POST') {
    const verdict = checkStateChange(f, port);
    if (!verdict.ok) throw new DashboardRequestError(verdict.status, verdict.reason);
    sendJson(res, 200, await post(path, req, url, actions));
    return;
  }
  if (f.method !== 'GET' && f.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    throw new DashboardRequestError(405, `${f.method} ${path} is not allowed`);
  }
  if (path === '/api/events') return stream(req, res, actions);
  if (path === '/api/shadow') {
    sendJson(res, 200, await actions.shadow(url.searchParams.get('thing') ?? ''));
    return;
  }
  const asset = assets.get(path);
  if (!asset) throw new DashboardRequestError(404, `nothing at ${path}`);
  send(res, 200, asset.type, asset.body);
}

function fail(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof DashboardRequestError ? err.status : 502;
  const retryable = err instanceof ShadowplugError ? err.retryable : true;
  sendJson(res, status, { error: errorMessage(err), retryable });
}

export async function startDashboardServer(options: { host?: string; port?: number; assets: Map<string, Asset>; actions: DashboardActions }) {
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? 0;
  const server: Server = hardenServer(createServer(serverOptions(), guardRequests((req, res) => handle(req, res, port, options.assets, options.actions), (_req, res, err) => fail(res, err))));
  port = await listen(server, host, port, (err) =>
    new ShadowplugError(`the dashboard cannot listen on ${formatHostPort(host, port)}: ${errorMessage(err)}`, { code: 'DASHBOARD_LISTEN', retryable: true, cause: err }));
  return { url: `http://${formatHostPort(host, port)}/`, port, close: (): Promise<void> => closeServer(server) };
}
