/**
 * The IoT data-plane HTTPS API for shadows, shaped so that `@aws-sdk/client-iot-data-plane`
 * works against it unchanged: GetThingShadow, UpdateThingShadow, DeleteThingShadow
 * (`/things/{thing}/shadow[?name=]`) and ListNamedShadowsForThing
 * (`/api/things/shadow/ListNamedShadowsForThing/{thing}`). Errors carry the SDK's error type in
 * `x-amzn-errortype` and AWS's `{code, message, timestamp}` body. Request signatures are not
 * checked: the sandbox has no IAM.
 */
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SHADOW_LIMITS, type JsonObject } from './shadow-document';
import { ShadowError, SHADOW_ERROR_TYPES, SHADOW_MESSAGES } from '../../core/shadow/errors';
import { silentLogger, type Logger } from '../../core/logger';
import type { ShadowService } from './shadow-service';
import { guardRequests, readBody, serverOptions } from '../http-server';
import { decodePathSegment, listenHttps } from './https-listen';

export interface DataPlaneOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string };
  shadows: ShadowService;
  clock?: () => number;
  logger?: Logger;
  /** Answers false when a request is over the rate: it gets 429 ThrottlingException. */
  throttle?: () => boolean;
}

const SHADOW_PATH = /^\/things\/([^/]+)\/shadow$/;
const LIST_PATH = /^\/api\/things\/shadow\/ListNamedShadowsForThing\/([^/]+)$/;
const DEFAULT_PAGE_SIZE = 25;

function send(res: ServerResponse, status: number, body: JsonObject, errorType?: string): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(data),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(data);
}

function sendError(res: ServerResponse, err: ShadowError, clock: () => number, payload?: JsonObject): void {
  send(res, err.status, payload ?? { code: err.status, message: err.message, timestamp: Math.floor(clock() / 1000) }, SHADOW_ERROR_TYPES[err.status]);
}

export async function startDataPlane(options: DataPlaneOptions): Promise<{ port: number; close(): Promise<void> }> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const shadows = options.shadows;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.throttle && !options.throttle()) {
      req.resume();
      return send(res, 429, { message: 'Rate exceeded' }, 'ThrottlingException');
    }
    const url = new URL(req.url ?? '/', 'https://localhost');
    let m = SHADOW_PATH.exec(url.pathname);
    if (m) {
      const thingName = decodePathSegment(m[1]!);
      if (thingName === undefined) return sendError(res, new ShadowError(400, `Invalid thing name: ${m[1]}`), clock);
      const shadowName = url.searchParams.get('name') ?? undefined;
      let result;
      if (req.method === 'GET') result = shadows.get(thingName, shadowName);
      else if (req.method === 'DELETE') result = shadows.delete(thingName, shadowName);
      else if (req.method === 'POST') {
        const body = await readBody(req, SHADOW_LIMITS.maxPayloadBytes);
        if (body === undefined) return sendError(res, new ShadowError(413, SHADOW_MESSAGES.tooLarge), clock);
        result = shadows.update(thingName, shadowName, body);
      } else {
        return send(res, 405, { message: `Method ${req.method} not allowed` }, 'MethodNotAllowedException');
      }
      if (result.ok) return send(res, 200, result.payload);
      return sendError(res, result.error!, clock, result.payload);
    }
    m = LIST_PATH.exec(url.pathname);
    if (m && req.method === 'GET') {
      const thingName = decodePathSegment(m[1]!);
      if (thingName === undefined) return sendError(res, new ShadowError(400, `Invalid thing name: ${m[1]}`), clock);
      const names = shadows.listNamedShadows(thingName);
      const pageSize = Number(url.searchParams.get('pageSize') ?? DEFAULT_PAGE_SIZE);
      const token = url.searchParams.get('nextToken');
      const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
      if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100 || !Number.isInteger(start) || start < 0) {
        return sendError(res, new ShadowError(400, 'Invalid pageSize or nextToken'), clock);
      }
      const end = start + pageSize;
      return send(res, 200, {
        results: names.slice(start, end),
        ...(end < names.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}),
        timestamp: Math.floor(clock() / 1000),
      });
    }
    send(res, 404, { message: `No such operation: ${req.method} ${url.pathname}` }, 'UnknownOperationException');
  };

  const server = createServer(
    { cert: options.tls.cert, key: options.tls.key, ...serverOptions() },
    guardRequests(handle, (req, res, err) => {
      logger.error('data-plane request failed', { method: req.method, url: req.url, error: err });
      sendError(res, new ShadowError(500, 'Internal service failure', err), clock);
    }),
  );
  return listenHttps(server, 'the IoT data-plane API', options.host, options.port);
}
