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
import { SHADOW_ERROR_TYPES, SHADOW_MESSAGES, type ShadowErrorStatus } from '../../core/shadow/errors';
import { silentLogger, type Logger } from '../../core/logger';
import type { ShadowService } from './shadow-service';
import { guardRequests, readBody, serverOptions } from '../http-server';
import { decodePathSegment, listenHttps, page, sendJson as send } from './https-listen';

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

export async function startDataPlane(options: DataPlaneOptions): Promise<{ port: number; close(): Promise<void> }> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const shadows = options.shadows;
  const fail = (res: ServerResponse, status: ShadowErrorStatus, message: string, payload?: JsonObject) =>
    send(res, status, payload ?? { code: status, message, timestamp: Math.floor(clock() / 1000) }, SHADOW_ERROR_TYPES[status]);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (options.throttle && !options.throttle()) {
      req.resume();
      return send(res, 429, { message: 'Rate exceeded' }, 'ThrottlingException');
    }
    const url = new URL(req.url ?? '/', 'https://localhost');
    const shadowPath = SHADOW_PATH.exec(url.pathname);
    const m = shadowPath ?? (req.method === 'GET' ? LIST_PATH.exec(url.pathname) : null);
    if (!m) return send(res, 404, { message: `No such operation: ${req.method} ${url.pathname}` }, 'UnknownOperationException');
    const thingName = decodePathSegment(m[1]!);
    if (thingName === undefined) return fail(res, 400, `Invalid thing name: ${m[1]}`);
    if (!shadowPath) {
      const found = page(shadows.listNamedShadows(thingName), Number(url.searchParams.get('pageSize') ?? DEFAULT_PAGE_SIZE), 100, url.searchParams.get('nextToken'));
      if (!found) return fail(res, 400, 'Invalid pageSize or nextToken');
      return send(res, 200, { results: found.items, ...(found.nextToken ? { nextToken: found.nextToken } : {}), timestamp: Math.floor(clock() / 1000) });
    }
    const shadowName = url.searchParams.get('name') ?? undefined;
    let result;
    if (req.method === 'GET') result = shadows.get(thingName, shadowName);
    else if (req.method === 'DELETE') result = shadows.delete(thingName, shadowName);
    else if (req.method === 'POST') {
      const body = await readBody(req, SHADOW_LIMITS.maxPayloadBytes);
      if (body === undefined) return fail(res, 413, SHADOW_MESSAGES.tooLarge);
      result = shadows.update(thingName, shadowName, body);
    } else {
      return send(res, 405, { message: `Method ${req.method} not allowed` }, 'MethodNotAllowedException');
    }
    if (result.ok) return send(res, 200, result.payload);
    fail(res, result.error!.status, result.error!.message, result.payload);
  };

  const server = createServer(
    { cert: options.tls.cert, key: options.tls.key, ...serverOptions() },
    guardRequests(handle, (req, res, err) => {
      logger.error('data-plane request failed', { method: req.method, url: req.url, error: err });
      fail(res, 500, 'Internal service failure');
    }),
  );
  return listenHttps(server, 'the IoT data-plane API', options.host, options.port);
}
