/**
 * The part of the IoT control-plane HTTPS API the object function calls, shaped so that
 * `@aws-sdk/client-iot` works against it unchanged: `ListThingsInThingGroup`
 * (`GET /thing-groups/{name}/things?recursive=&maxResults=&nextToken=`), paginated, with
 * `ResourceNotFoundException` for a missing group. Signatures are not checked.
 */
import { createServer } from 'node:https';
import type { ServerResponse } from 'node:http';
import { silentLogger, type Logger } from '../../core/logger';
import { guardRequests, serverOptions } from '../http-server';
import { decodePathSegment, listenHttps } from './https-listen';
import type { ThingGroups } from './thing-groups';

export interface ControlPlaneOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string };
  groups: ThingGroups;
  logger?: Logger;
}

const LIST_PATH = /^\/thing-groups\/([^/]+)\/things$/;
/** As AWS: 25 by default, at most 250. */
const DEFAULT_PAGE = 25;
const MAX_PAGE = 250;

function send(res: ServerResponse, status: number, body: object, errorType?: string): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(errorType ? { 'x-amzn-errortype': errorType } : {}) });
  res.end(data);
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<{ port: number; close(): Promise<void> }> {
  const logger = options.logger ?? silentLogger;
  const server = createServer({ cert: options.tls.cert, key: options.tls.key, ...serverOptions() }, guardRequests((req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const m = LIST_PATH.exec(url.pathname);
    if (!m || req.method !== 'GET') return send(res, 404, { message: `No such operation: ${req.method} ${url.pathname}` }, 'UnknownOperationException');
    const group = decodePathSegment(m[1]!);
    const members = group === undefined ? undefined : options.groups.members(group, url.searchParams.get('recursive') === 'true');
    if (members === undefined) return send(res, 404, { message: `Thing group ${group ?? m[1]} does not exist` }, 'ResourceNotFoundException');
    const pageSize = Number(url.searchParams.get('maxResults') ?? DEFAULT_PAGE);
    const token = url.searchParams.get('nextToken');
    const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE || !Number.isInteger(start) || start < 0) {
      return send(res, 400, { message: 'Invalid maxResults or nextToken' }, 'InvalidRequestException');
    }
    const end = start + pageSize;
    logger.debug('ListThingsInThingGroup', { group, start, members: members.length });
    send(res, 200, { things: members.slice(start, end), ...(end < members.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}) });
  }));
  return listenHttps(server, 'the IoT control-plane API', options.host, options.port);
}
