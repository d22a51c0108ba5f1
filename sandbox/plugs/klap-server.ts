/**
 * A simulated KLAP device (v1 or v2): handshake 1 and 2, then signed, encrypted requests checked
 * for signature and sequence number, decrypted, handed to the device model, and answered encrypted.
 * A plain JSON POST to /app answers `{"error_code":1003}`, as KLAP firmware does.
 */
import { randomBytes } from 'node:crypto';
import {
  deriveKlapSessionKeys,
  hashesEqual,
  klapAuthHash,
  klapClientHash,
  klapDecrypt,
  klapEncrypt,
  klapServerHash,
  klapSignatureValid,
  type Credentials,
  type KlapSessionKeys,
  type KlapVersion,
} from '../../core/tplink/klap-crypto';
import { startHttpDeviceServer, type Answer, type DeviceFaults, type HttpDeviceServer } from './http-device-server';

export interface KlapServerOptions {
  version: KlapVersion;
  credentials: Credentials;
  /** Answers one decrypted request (IOT or SMART JSON). */
  handle: (request: unknown) => unknown;
  host?: string;
  port?: number;
  /** The TIMEOUT cookie, in seconds (default 86400). */
  timeoutSeconds?: number;
  faults?: DeviceFaults;
}

interface ServerSession {
  localSeed: Buffer;
  remoteSeed: Buffer;
  keys: KlapSessionKeys;
  confirmed: boolean;
  lastSeq: number | undefined;
  createdAt: number;
  requests: number;
}

export async function startKlapServer(options: KlapServerOptions): Promise<HttpDeviceServer> {
  const sessions = new Map<string, ServerSession>();
  const auth = klapAuthHash(options.version, options.credentials);
  const wrongAuth = klapAuthHash(options.version, { username: 'someone-else@example.com', password: 'not-it' });
  const timeoutSeconds = options.timeoutSeconds ?? 86400;
  const faults = options.faults ?? {};

  const route = (path: string, body: Buffer, cookies: Map<string, string>): Answer => {
    const session = sessions.get(cookies.get('TP_SESSIONID') ?? '');
    if (path === '/app/handshake1') {
      if (body.length !== 16) return { status: 400 };
      server.stats.handshakes++;
      const id = randomBytes(16).toString('hex').toUpperCase();
      const remoteSeed = randomBytes(16);
      const proof = klapServerHash(options.version, body, remoteSeed, faults.wrongServerHash ? wrongAuth : auth);
      sessions.set(id, {
        localSeed: Buffer.from(body),
        remoteSeed,
        keys: deriveKlapSessionKeys(body, remoteSeed, auth),
        confirmed: false,
        lastSeq: undefined,
        createdAt: Date.now(),
        requests: 0,
      });
      return {
        status: 200,
        body: Buffer.concat([remoteSeed, proof]),
        headers: { 'Set-Cookie': `TP_SESSIONID=${id};TIMEOUT=${timeoutSeconds}` },
      };
    }
    if (path === '/app/handshake2') {
      if (!session) return { status: 403 };
      const expected = klapClientHash(options.version, session.localSeed, session.remoteSeed, auth);
      if (!hashesEqual(expected, body)) return { status: 403 };
      session.confirmed = true;
      return { status: 200 };
    }
    if (path.startsWith('/app/request?')) return request(path, body, session);
    if (path === '/app') return { status: 200, body: JSON.stringify({ error_code: 1003 }) };
    return { status: 404 };
  };

  const request = (path: string, body: Buffer, session: ServerSession | undefined): Answer => {
    const seq = Number(new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('seq'));
    const expired = session !== undefined && faults.sessionTtlMs !== undefined && Date.now() - session.createdAt > faults.sessionTtlMs;
    const spent = session !== undefined && faults.oneRequestPerSession === true && session.requests >= 1;
    if (!session?.confirmed || expired || spent || faults.forbidRequests || !Number.isInteger(seq)) return { status: 403 };
    // Each request must carry a fresh sequence number and a valid signature.
    if ((session.lastSeq !== undefined && seq <= session.lastSeq) || !klapSignatureValid(session.keys, seq, body)) {
      return { status: 403 };
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(klapDecrypt(session.keys, seq, body).toString('utf8'));
    } catch {
      return { status: 400 };
    }
    session.lastSeq = seq;
    session.requests++;
    server.stats.requests++;
    const reply = klapEncrypt(session.keys, seq, Buffer.from(JSON.stringify(options.handle(decoded)), 'utf8'));
    if (faults.corruptReply && reply.length >= 64) {
      // Flips the last byte of the next-to-last block: the last plaintext byte (the padding) is then always wrong.
      reply.writeUInt8(reply.readUInt8(reply.length - 17) ^ 0xff, reply.length - 17);
    }
    return { status: 200, body: reply };
  };

  // The routes run only once the server is listening, after `server` is set.
  const server: HttpDeviceServer = await startHttpDeviceServer(route, {
    host: options.host,
    port: options.port,
    faults,
    endSessions: () => sessions.clear(),
  });
  return server;
}
