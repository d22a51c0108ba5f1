/**
 * A simulated KLAP device (v1 or v2): handshake 1 and 2, then signed, encrypted requests checked
 * for signature and sequence number, decrypted, handed to the device model, and answered encrypted.
 * A plain JSON POST to /app answers `{"error_code":1003}`, as KLAP firmware does. The wire
 * constants and the cryptography are the client's (core/tplink/klap-crypto.ts); that this device
 * speaks KLAP is proven by python-kasa, not by our client.
 */
import { randomBytes } from 'node:crypto';
import * as klap from '../../core/tplink/klap-crypto';
import { corruptPadding, DeviceSessions, jsonOf, startSessionDeviceServer, tpapDiscoverFields } from './http-device-server';
import type { Answer, DeviceServerOptions, HttpDeviceServer } from './http-device-server';

export interface KlapServerOptions extends DeviceServerOptions {
  version: klap.KlapVersion;
}

interface ServerSession {
  localSeed: Buffer;
  remoteSeed: Buffer;
  keys: klap.KlapSessionKeys;
  confirmed: boolean;
  lastSeq: number | undefined;
  createdAt: number;
  requests: number;
}

export async function startKlapServer(options: KlapServerOptions): Promise<HttpDeviceServer> {
  const { version } = options;
  const faults = options.faults ?? {};
  const sessions = new DeviceSessions<ServerSession>(faults);
  const auth = klap.klapAuthHash(version, options.credentials);
  const wrongAuth = klap.klapAuthHash(version, { username: 'someone-else@example.com', password: 'not-it' });
  const timeoutSeconds = options.timeoutSeconds ?? klap.KLAP_DEFAULT_TIMEOUT_SECONDS;

  const handshake1 = (localSeed: Buffer): Answer => {
    if (localSeed.length !== klap.KLAP_SEED_LENGTH) return { status: 400 };
    if (faults.tpap || faults.forbidHandshake) return { status: 403 };
    server.stats.handshakes++;
    const remoteSeed = randomBytes(klap.KLAP_SEED_LENGTH);
    const proof = klap.klapServerHash(version, localSeed, remoteSeed, faults.wrongServerHash ? wrongAuth : auth);
    const cookie = sessions.open(
      {
        localSeed: Buffer.from(localSeed),
        remoteSeed,
        keys: klap.deriveKlapSessionKeys(localSeed, remoteSeed, auth),
        confirmed: false,
        lastSeq: undefined,
        createdAt: Date.now(),
        requests: 0,
      },
      timeoutSeconds,
    );
    return { status: 200, body: Buffer.concat([remoteSeed, proof]), headers: cookie };
  };

  const route = (path: string, body: Buffer, cookies: Map<string, string>): Answer => {
    const session = sessions.of(cookies);
    if (path === klap.KLAP_PATHS.handshake1) return handshake1(body);
    if (path === klap.KLAP_PATHS.handshake2) {
      if (!session) return { status: 403 };
      const expected = klap.klapClientHash(version, session.localSeed, session.remoteSeed, auth);
      if (!klap.hashesEqual(expected, body)) return { status: 403 };
      session.confirmed = true;
      return { status: 200 };
    }
    if (path.startsWith(`${klap.KLAP_PATHS.request}?`)) return request(path, body, session);
    if (path === '/app') return { status: 200, body: JSON.stringify({ error_code: 1003 }) };
    if (path === '/') {
      const result = { sub_method: 'discover', ...(faults.tpap ? tpapDiscoverFields(faults.tpap) : { tpap_preferred: false }) };
      return { status: 200, body: JSON.stringify({ error_code: 0, result }) };
    }
    return { status: 404 };
  };

  const request = (path: string, body: Buffer, session: ServerSession | undefined): Answer => {
    const seq = Number(new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('seq'));
    const spent = session !== undefined && faults.oneRequestPerSession === true && session.requests >= 1;
    if (!session?.confirmed || sessions.expired(session) || spent || faults.forbidRequests || !Number.isInteger(seq)) return { status: 403 };
    // Each request must carry a fresh sequence number and a valid signature.
    if ((session.lastSeq !== undefined && seq <= session.lastSeq) || !klap.klapSignatureValid(session.keys, seq, body)) {
      return { status: 403 };
    }
    const decoded = jsonOf(() => klap.klapDecrypt(session.keys, seq, body).toString('utf8'));
    if (decoded === undefined) return { status: 400 };
    session.lastSeq = seq;
    session.requests++;
    server.stats.requests++;
    const reply = klap.klapEncrypt(session.keys, seq, Buffer.from(JSON.stringify(options.handle(decoded)), 'utf8'));
    if (faults.corruptReply && reply.length >= 64) corruptPadding(reply);
    return { status: 200, body: reply };
  };

  // The routes run only once the server is listening, after `server` is set.
  const server = await startSessionDeviceServer(route, sessions, options);
  return server;
}
