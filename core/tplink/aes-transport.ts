/**
 * AES "securePassthrough" (older Tapo firmware, HTTP port 80, JSON): an RSA handshake yields an AES
 * key and a session cookie, `login_device` a token, and each request goes encrypted inside a
 * `securePassthrough` call. A session the device forgot (9999) gets one fresh handshake and login.
 */
import {
  parseReplyJson,
  sessionRefused,
  smartErrorName,
  SMART_AUTHENTICATION_CODES,
  SMART_DEVICE_BLOCKED,
  TplinkAuthenticationError,
  TplinkProtocolError,
  type TplinkEndpoint,
} from './errors';
import {
  aesDecrypt,
  aesEncrypt,
  aesLoginParams,
  createHandshakeKeyPair,
  type AesLoginVersion,
  type AesSessionKey,
  type HandshakeKeyPair,
} from './aes-crypto';
import { TAPO_DEFAULT_CREDENTIALS } from './credentials';
import { SessionTransport, sessionExpiry, StaleSession, type SessionTransportOptions } from './session-transport';
import type { Credentials } from './klap-crypto';
import { isObject } from '../util/guards';

export interface AesTransportOptions extends SessionTransportOptions {
  /** 1, 2, or `auto` (default: 2, then 1). */
  loginVersion?: AesLoginVersion | 'auto';
}

interface AesSession {
  key: AesSessionKey;
  cookie: string;
  token: string;
  expiresAt: number;
  loginVersion: AesLoginVersion;
}

const HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json', requestByApp: 'true' };

/** The RSA key pair is made once per process: generating one costs more than a round trip. */
let keyPair: HandshakeKeyPair | undefined;
const handshakeKeyPair = (): HandshakeKeyPair => (keyPair ??= createHandshakeKeyPair());

export class AesTransport extends SessionTransport<AesSession> {
  loginVersion: AesLoginVersion | undefined;
  private readonly wantedLogin: AesLoginVersion | 'auto';

  constructor(endpoint: TplinkEndpoint, options: AesTransportOptions = {}) {
    super(endpoint, options);
    this.wantedLogin = options.loginVersion ?? 'auto';
  }

  protected cachedSession(): AesSession | undefined {
    const session = this.sessions.get<AesSession>(this.sessionKey());
    if (session && this.now() < session.expiresAt) {
      this.loginVersion = session.loginVersion;
      return session;
    }
    this.forgetSession();
    return undefined;
  }

  /** Sends one inner request; resolves with the device's decrypted answer (its error_code unchecked). */
  protected async inSession(deadline: number, session: Pick<AesSession, 'key' | 'cookie'> & { token?: string }, request: object): Promise<unknown> {
    const path = session.token ? `/app?token=${session.token}` : '/app';
    const body = JSON.stringify({ method: 'securePassthrough', params: { request: aesEncrypt(session.key, JSON.stringify(request)) } });
    const reply = await this.post(deadline, path, body, { ...HEADERS, Cookie: `TP_SESSIONID=${session.cookie}` });
    const outer = this.outer(reply.status, reply.body, 'securePassthrough');
    const code = outer.error_code;
    if (code === 9999 || code === -1005) {
      throw new StaleSession(`error ${code}`, sessionRefused(this.endpoint, `the device answered ${code} (${smartErrorName(code)}) again after a fresh AES handshake`));
    }
    if (code !== 0) return outer; // e.g. -1003: the SMART layer maps it
    const result = isObject(outer.result) ? outer.result : {};
    const encrypted = typeof result.response === 'string' ? result.response : '';
    let decrypted: Buffer;
    try {
      decrypted = aesDecrypt(session.key, encrypted);
    } catch (err) {
      throw new StaleSession('undecryptable reply', new TplinkProtocolError(this.endpoint, 'decrypt', `AES reply of ${encrypted.length} base64 characters does not decrypt`, err));
    }
    return parseReplyJson(this.endpoint, decrypted, 'decrypted AES reply');
  }

  private outer(status: number, body: Buffer, what: string): Record<string, unknown> {
    if (status !== 200) throw new TplinkProtocolError(this.endpoint, 'http-status', `AES ${what} answered HTTP ${status}`);
    const parsed = parseReplyJson(this.endpoint, body, `AES ${what} reply`);
    if (!isObject(parsed) || typeof parsed.error_code !== 'number') {
      throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `AES ${what} reply has no error_code`);
    }
    return parsed;
  }

  /**
   * Handshake and login: the user's credentials, then Tapo's defaults; v2 then v1 unless fixed. Once
   * refused, one login per request (the candidates in turn): Tapo blocks logins after a few refusals.
   */
  protected async establish(deadline: number): Promise<AesSession> {
    const versions: AesLoginVersion[] = this.wantedLogin === 'auto' ? [2, 1] : [this.wantedLogin];
    const candidates: Credentials[] = this.credentials ? [this.credentials, TAPO_DEFAULT_CREDENTIALS] : [TAPO_DEFAULT_CREDENTIALS];
    const attempts = candidates.flatMap((credentials) => versions.map((loginVersion) => ({ credentials, loginVersion })));
    let lastCode = 0;
    // After a refusal: the user's own credentials in turn (the defaults when none are given).
    const own = attempts.filter((a) => a.credentials === (this.credentials ?? TAPO_DEFAULT_CREDENTIALS));
    for (const { credentials, loginVersion } of this.guard.choose(attempts, own)) {
      // A refused login spoils the session: each attempt starts with its own handshake.
      const handshake = await this.handshake(deadline);
      const reply = await this.login(deadline, handshake, loginVersion, credentials);
      const code = isObject(reply) && typeof reply.error_code === 'number' ? reply.error_code : -1;
      const result = isObject(reply) && isObject(reply.result) ? reply.result : {};
      if (code === 0 && typeof result.token === 'string') {
        const session: AesSession = { ...handshake, token: result.token, loginVersion };
        this.loginVersion = loginVersion;
        this.guard.succeeded();
        this.sessions.set(this.sessionKey(), session);
        return session;
      }
      // Blocked: one more attempt would only prolong it.
      if (code === SMART_DEVICE_BLOCKED) throw this.guard.blocked(this.now(), reply);
      if (!SMART_AUTHENTICATION_CODES.has(code)) {
        throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `AES login answered error ${code} (${smartErrorName(code)})`);
      }
      this.guard.refusedLogin(reply);
      lastCode = code;
    }
    const tried = this.credentials ? 'the given credentials and the Tapo default ones' : 'no credentials given; the Tapo default ones';
    const left = this.guard.attemptsLeft === undefined ? '' : `; the device allows ${this.guard.attemptsLeft} more before it blocks logins`;
    throw new TplinkAuthenticationError(
      this.endpoint,
      `the device refused login_device (error ${lastCode}, ${smartErrorName(lastCode)}; tried ${tried}${left}); check the TP-Link account email and password (one login per request until one succeeds)`,
    );
  }

  private async login(
    deadline: number,
    handshake: Omit<AesSession, 'token' | 'loginVersion'>,
    loginVersion: AesLoginVersion,
    credentials: Credentials,
  ): Promise<unknown> {
    const request = { method: 'login_device', params: aesLoginParams(loginVersion, credentials), request_time_milis: Date.now() };
    try {
      return await this.inSession(deadline, handshake, request);
    } catch (err) {
      // A brand-new session refused: nothing to retry with.
      throw err instanceof StaleSession ? err.failure : err;
    }
  }

  private async handshake(deadline: number): Promise<Omit<AesSession, 'token' | 'loginVersion'>> {
    const keys = handshakeKeyPair();
    const body = JSON.stringify({ method: 'handshake', params: { key: keys.publicPem } });
    const reply = await this.post(deadline, '/app', body, HEADERS);
    const outer = this.outer(reply.status, reply.body, 'handshake');
    const result = isObject(outer.result) ? outer.result : {};
    if (outer.error_code !== 0 || typeof result.key !== 'string') {
      throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `AES handshake answered error ${String(outer.error_code)}`);
    }
    const cookie = reply.cookies.get('TP_SESSIONID') ?? reply.cookies.get('SESSIONID');
    if (cookie === undefined) throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', 'AES handshake set no session cookie');
    let key: AesSessionKey;
    try {
      key = keys.decryptSessionKey(result.key);
    } catch (err) {
      throw new TplinkProtocolError(this.endpoint, 'decrypt', 'AES handshake key does not decrypt with our RSA key', err);
    }
    return { key, cookie, expiresAt: sessionExpiry(this.now(), reply.cookies.get('TIMEOUT')) };
  }
}
