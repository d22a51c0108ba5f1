/**
 * The part of the IoT control-plane HTTPS API the object function calls, shaped so that
 * `@aws-sdk/client-iot` works against it unchanged: `ListThingsInThingGroup`
 * (`GET /thing-groups/{name}/things?recursive=&maxResults=&nextToken=`), paginated, with
 * `ResourceNotFoundException` for a missing group. Signatures are not checked.
 */
import { createServer } from 'node:https';
import { silentLogger, type Logger } from '../../core/logger';
import { guardRequests, serverOptions } from '../http-server';
import { decodePathSegment, listenHttps, page, sendJson as send } from './https-listen';
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

export async function startControlPlane(options: ControlPlaneOptions): Promise<{ port: number; close(): Promise<void> }> {
  const logger = options.logger ?? silentLogger;
  const server = createServer({ cert: options.tls.cert, key: options.tls.key, ...serverOptions() }, guardRequests((req, res) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    const m = LIST_PATH.exec(url.pathname);
    if (!m || req.method !== 'GET') return send(res, 404, { message: `No such operation: ${req.method} ${url.pathname}` }, 'UnknownOperationException');
    const group = decodePathSegment(m[1]!);
    const members = group === undefined ? undefined : options.groups.members(group, url.searchParams.get('recursive') === 'true');
    if (members === undefined) return send(res, 404, { message: `Thing group ${group ?? m[1]} does not exist` }, 'ResourceNotFoundException');
    const found = page(members, Number(url.searchParams.get('maxResults') ?? DEFAULT_PAGE), MAX_PAGE, url.searchParams.get('nextToken'));
    if (!found) return send(res, 400, { message: 'Invalid maxResults or nextToken' }, 'InvalidRequestException');
    logger.debug('ListThingsInThingGroup', { group, members: members.length });
    send(res, 200, { things: found.items, ...(found.nextToken ? { nextToken: found.nextToken } : {}) });
  }));
  return listenHttps(server, 'the IoT control-plane API', options.host, options.port);
}
