/**
 * A small stand-in for the IoT data-plane shadow API (GetThingShadow / UpdateThingShadow over
 * plain HTTP on 127.0.0.1) that the real `IoTDataPlaneClient` talks to via `endpoint`. It stores
 * documents, merges updates as the service does (objects merge, `null` deletes), increments
 * `version`, and answers 409 ConflictException to an update carrying a stale version.
 * Hooks let a test interleave a concurrent writer or inject a failure.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';

type Json = Record<string, unknown>;

export interface StubShadow {
  state: { desired?: Json; reported?: Json };
  version: number;
}

export interface ShadowHttpStub {
  endpoint: string;
  /** The stored document of a thing (classic shadow unless `shadowName`). */
  get(thing: string, shadowName?: string): StubShadow | undefined;
  /** Store a document directly (as another writer would), bumping the version. */
  put(thing: string, state: StubShadow['state'], shadowName?: string): StubShadow;
  /** Requests seen, in order. */
  requests: { method: string; thing: string; shadowName?: string; body?: Json; status: number }[];
  /** Called before each update is applied; may throw `{ status, type, message }` to fail it. */
  beforeUpdate?: (thing: string, shadowName: string | undefined) => void;
  client(): IoTDataPlaneClient;
  close(): Promise<void>;
}

export class StubFailure {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly message: string,
  ) {}
}

function merge(target: Json | undefined, patch: Json): Json | undefined {
  const out: Json = { ...(target ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (typeof v === 'object' && !Array.isArray(v)) {
      const prev = out[k];
      out[k] = merge(prev && typeof prev === 'object' && !Array.isArray(prev) ? (prev as Json) : undefined, v as Json) ?? {};
    } else out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

export async function startShadowHttpStub(): Promise<ShadowHttpStub> {
  const shadows = new Map<string, StubShadow>();
  const id = (thing: string, name?: string) => `${thing}\u0000${name ?? ''}`;
  const requests: ShadowHttpStub['requests'] = [];
  const hooks: { beforeUpdate?: ShadowHttpStub['beforeUpdate'] } = {};

  const send = (res: ServerResponse, status: number, body: Json, errorType?: string) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) headers['x-amzn-ErrorType'] = errorType;
    res.writeHead(status, headers).end(JSON.stringify(body));
  };

  const store = (thing: string, name: string | undefined, state: StubShadow['state']): StubShadow => {
    const prev = shadows.get(id(thing, name));
    const next: StubShadow = { state: {}, version: (prev?.version ?? 0) + 1 };
    const desired = state.desired === null ? undefined : merge(prev?.state.desired, state.desired ?? {});
    const reported = state.reported === null ? undefined : merge(prev?.state.reported, state.reported ?? {});
    if (desired) next.state.desired = desired;
    if (reported) next.state.reported = reported;
    shadows.set(id(thing, name), next);
    return next;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const m = /^\/things\/([^/]+)\/shadow$/.exec(url.pathname);
      const log = (status: number, thing = '', shadowName?: string, body?: Json) =>
        requests.push({ method: req.method ?? '', thing, shadowName, body, status });
      if (!m) {
        log(404);
        return send(res, 404, { message: 'Not Found' }, 'ResourceNotFoundException');
      }
      const thing = decodeURIComponent(m[1]!);
      const shadowName = url.searchParams.get('name') ?? undefined;
      const now = Math.floor(Date.now() / 1000);
      if (req.method === 'GET') {
        const doc = shadows.get(id(thing, shadowName));
        log(doc ? 200 : 404, thing, shadowName);
        if (!doc) return send(res, 404, { code: 404, message: `No shadow exists with name: '${shadowName ?? thing}'` }, 'ResourceNotFoundException');
        return send(res, 200, { state: doc.state, metadata: {}, version: doc.version, timestamp: now });
      }
      if (req.method === 'POST') {
        let body: Json;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json;
        } catch {
          log(400, thing, shadowName);
          return send(res, 400, { code: 400, message: 'Invalid JSON' }, 'InvalidRequestException');
        }
        try {
          hooks.beforeUpdate?.(thing, shadowName);
        } catch (err) {
          if (err instanceof StubFailure) {
            log(err.status, thing, shadowName, body);
            return send(res, err.status, { code: err.status, message: err.message }, err.type);
          }
          throw err;
        }
        const state = body.state as StubShadow['state'] | undefined;
        if (!state || typeof state !== 'object') {
          log(400, thing, shadowName, body);
          return send(res, 400, { code: 400, message: 'Missing required node: state' }, 'InvalidRequestException');
        }
        const current = shadows.get(id(thing, shadowName));
        if (body.version !== undefined && body.version !== (current?.version ?? 0)) {
          log(409, thing, shadowName, body);
          return send(res, 409, { code: 409, message: 'Version conflict' }, 'ConflictException');
        }
        const next = store(thing, shadowName, state);
        log(200, thing, shadowName, body);
        return send(res, 200, { state, metadata: {}, version: next.version, timestamp: now });
      }
      log(405, thing, shadowName);
      return send(res, 405, { message: 'Method Not Allowed' }, 'MethodNotAllowedException');
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: IoTDataPlaneClient[] = [];
  return {
    endpoint,
    requests,
    get beforeUpdate() {
      return hooks.beforeUpdate;
    },
    set beforeUpdate(fn) {
      hooks.beforeUpdate = fn;
    },
    get: (thing, name) => shadows.get(id(thing, name)),
    put: (thing, state, name) => store(thing, name, state),
    client: () => {
      const c = new IoTDataPlaneClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'stub', secretAccessKey: 'stub' }, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    close: async () => {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
