/**
 * A simulated Tapo device on the older AES "securePassthrough" transport: an RSA handshake that
 * hands the client an AES key, a `login_device` (v1: base64 password, v2: base64 SHA-1) that
 * returns a token, then encrypted SMART requests wrapped in `securePassthrough`.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { aesDecrypt, aesEncrypt, aesLoginParams, encryptSessionKey, type AesLoginVersion, type AesSessionKey } from '../../core/tplink/aes-crypto';
import { corruptPadding, DeviceSessions, jsonOf, startSessionDeviceServer } from './http-device-server';
import type { Answer, DeviceServerOptions, HttpDeviceServer } from './http-device-server';
import { isObject } from '../../core/util/guards';

export interface AesServerOptions extends DeviceServerOptions {
  /** Which login the firmware accepts (default 2). */
  loginVersion?: AesLoginVersion;
  /** Blocks logins after this many refused ones, as Tapo firmware does (default: never). */
  lockout?: LoginLockout;
}

/**
 * Tapo's login lockout: after `maxFailures` refused logins every login answers -40404 with
 * `sec_left` until `blockSeconds` have passed. Newer firmware also says how many attempts are left
 * with each refusal (`reportAttempts`, in `data.time` beside `data.max_time` as Tapo cameras do).
 */
export interface LoginLockout {
  maxFailures: number;
  blockSeconds: number;
  reportAttempts?: boolean;
  /** The device's clock, ms (default Date.now). */
  now?: () => number;
}

/** Login attempts a device saw (tests count them). */
export interface LoginStats {
  logins: number;
  refused: number;
  blocked: number;
}

interface ServerSession {
  key: AesSessionKey;
  token: string | undefined;
  createdAt: number;
}

const json = (value: unknown, headers?: Record<string, string>): Answer => ({
  status: 200,
  body: JSON.stringify(value),
  headers: { 'Content-Type': 'application/json;charset=UTF-8', ...headers },
});

/** Accepts the PEM with or without line wrapping (python-kasa sends the base64 on one line); throws on a bad key. */
function publicKeyPem(text: string): string {
  const der = Buffer.from(text.replace(/-----(BEGIN|END) PUBLIC KEY-----|\s+/g, ''), 'base64');
  return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
}

/** `login_device`: a token for the right credentials, else -1501 (and Tapo's lockout when configured), counted in `logins`. */
function loginOf(expected: Record<string, unknown>, lockout: LoginLockout | undefined, logins: LoginStats): (session: ServerSession, params: Record<string, unknown>) => unknown {
  const clock = lockout?.now ?? Date.now;
  let failures = 0;
  let blockedUntil = 0;
  return (session, params) => {
    logins.logins++;
    if (lockout && clock() < blockedUntil) {
      logins.blocked++;
      return { error_code: -40404, result: { data: { code: -40404, sec_left: Math.ceil((blockedUntil - clock()) / 1000) } } };
    }
    if (!Object.entries(expected).every(([name, value]) => params[name] === value)) {
      logins.refused++;
      if (!lockout) return { error_code: -1501 };
      failures++;
      if (failures >= lockout.maxFailures) {
        failures = 0;
        blockedUntil = clock() + lockout.blockSeconds * 1000;
      }
      const left = lockout.maxFailures - failures;
      return lockout.reportAttempts ? { error_code: -1501, result: { data: { code: -1501, time: left, max_time: lockout.maxFailures } } } : { error_code: -1501 };
    }
    failures = 0;
    session.token = randomBytes(16).toString('hex').toUpperCase();
    return { error_code: 0, result: { token: session.token } };
  };
}

export async function startAesServer(options: AesServerOptions): Promise<HttpDeviceServer & { logins: LoginStats }> {
  const faults = options.faults ?? {};
  const sessions = new DeviceSessions<ServerSession>(faults);
  const expected = aesLoginParams(options.loginVersion ?? 2, options.credentials);

  const handshake = (params: Record<string, unknown>): Answer => {
    let pem: string;
    try {
      pem = publicKeyPem(typeof params.key === 'string' ? params.key : '');
    } catch {
      return json({ error_code: -1010 });
    }
    server.stats.handshakes++;
    const key = { key: randomBytes(16), iv: randomBytes(16) };
    const cookie = sessions.open({ key, token: undefined, createdAt: Date.now() }, options.timeoutSeconds ?? 1440);
    return json({ error_code: 0, result: { key: encryptSessionKey(pem, key) } }, cookie);
  };

  const logins: LoginStats = { logins: 0, refused: 0, blocked: 0 };
  const login = loginOf(expected, options.lockout, logins);

  const inner = (session: ServerSession, request: unknown, token: string | null): unknown => {
    if (!isObject(request)) return { error_code: -1003 };
    if (request.method === 'login_device') return login(session, isObject(request.params) ? request.params : {});
    if (session.token === undefined || token !== session.token) return { error_code: 9999 };
    server.stats.requests++;
    return options.handle(request);
  };

  const passthrough = (session: ServerSession | undefined, params: Record<string, unknown>, token: string | null): Answer => {
    if (!session || sessions.expired(session) || faults.forbidRequests) return json({ error_code: 9999 });
    const request = jsonOf(() => aesDecrypt(session.key, typeof params.request === 'string' ? params.request : '').toString('utf8'));
    if (request === undefined) return json({ error_code: -1005 });
    const reply = inner(session, request, token);
    if (faults.oneRequestPerSession && session.token !== undefined && isObject(request) && request.method !== 'login_device') {
      session.token = `spent-${session.token}`;
    }
    let response = aesEncrypt(session.key, JSON.stringify(reply));
    if (faults.corruptReply) {
      const bytes = Buffer.from(response, 'base64');
      if (bytes.length >= 32) corruptPadding(bytes);
      response = bytes.toString('base64');
    }
    return json({ error_code: 0, result: { response } });
  };

  const route = (path: string, body: Buffer, cookies: Map<string, string>): Answer => {
    const url = new URL(path, 'http://device');
    if (url.pathname !== '/app') return { status: 404 };
    const request = jsonOf(() => body.toString('utf8'));
    if (!isObject(request)) return json({ error_code: -1003 });
    const params = isObject(request.params) ? request.params : {};
    if (request.method === 'handshake') return handshake(params);
    if (request.method === 'securePassthrough') {
      return passthrough(sessions.of(cookies), params, url.searchParams.get('token'));
    }
    return json({ error_code: -1002 });
  };

  // The routes run only once the server is listening, after `server` is set.
  const server: HttpDeviceServer & { logins: LoginStats } = Object.assign(await startSessionDeviceServer(route, sessions, options), { logins });
  return server;
}
