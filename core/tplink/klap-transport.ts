/**
 * KLAP (HTTP, port 80): two handshakes make a session, then each request is AES-encrypted with a
 * sequence number. A session is renewed near the device's TIMEOUT, before the sequence number leaves
 * int32, and once when the device refuses it (403) or a reply does not decrypt. Firmware that takes
 * one request per session is recognised and then gets a handshake before each request.
 */
import { randomBytes } from 'node:crypto';
import { parseReplyJson, sessionRefused, TplinkAuthenticationError, TplinkProtocolError, type TplinkEndpoint } from './errors';
import {
  deriveKlapSessionKeys,
  hashesEqual,
  klapAuthHash,
  klapClientHash,
  klapDecrypt,
  klapEncrypt,
  klapSeqExhausted,
  klapRequestPath,
  klapServerHash,
  KLAP_HANDSHAKE1_REPLY_LENGTH,
  KLAP_PATHS,
  KLAP_SEED_LENGTH,
  KLAP_SESSION_COOKIE,
  type KlapSessionKeys,
  type KlapVersion,
} from './klap-crypto';
import { candidateCredentials } from './credentials';
import { describeTpap, parseTpapDiscoverReply, TPAP_DISCOVER_BODY, unsupportedTransport } from './tpap';
import { SessionTransport, sessionExpiry, StaleSession, type SessionTransportOptions } from './session-transport';

export interface KlapTransportOptions extends SessionTransportOptions {
  /**
   * The version expected (remembered, or discovery's `lv`), or `auto`: handshake 1's hash tells which,
   * the expected one checked first (firmware may want v2 without saying so, or have been updated).
   */
  version?: KlapVersion | 'auto';
}

interface KlapSession {
  version: KlapVersion;
  keys: KlapSessionKeys;
  seq: number;
  cookie: string;
  expiresAt: number;
  /** Requests answered within this session. */
  used: number;
}

export class KlapTransport extends SessionTransport<KlapSession> {
  /** The KLAP version of the last session (after a handshake). */
  version: KlapVersion | undefined;
  private readonly wantedVersion: KlapVersion | 'auto';

  constructor(endpoint: TplinkEndpoint, options: KlapTransportOptions = {}) {
    super(endpoint, options);
    this.wantedVersion = options.version ?? 'auto';
  }

  protected override onStale(session: KlapSession, stale: StaleSession): void {
    // A device that took exactly one request on this session takes one per session.
    if (session.used === 1 && stale.why === 'status 403') this.sessions.set(this.oneRequestKey(), true);
  }

  private oneRequestKey(): string {
    return `${this.sessionKey()}:one-request`;
  }

  protected cachedSession(): KlapSession | undefined {
    const session = this.sessions.get<KlapSession>(this.sessionKey());
    if (session === undefined) return undefined;
    const oneRequest = this.sessions.get<boolean>(this.oneRequestKey()) === true;
    if (this.now() < session.expiresAt && !klapSeqExhausted(session.seq) && !(oneRequest && session.used > 0)) {
      this.version = session.version;
      return session;
    }
    this.forgetSession();
    return undefined;
  }

  protected async inSession(deadline: number, session: KlapSession, request: object): Promise<unknown> {
    const plaintext = Buffer.from(JSON.stringify(request), 'utf8');
    const seq = ++session.seq;
    const reply = await this.post(deadline, klapRequestPath(seq), klapEncrypt(session.keys, seq, plaintext), {
      Cookie: `${KLAP_SESSION_COOKIE}=${session.cookie}`,
    });
    if (reply.status === 403) {
      throw new StaleSession('status 403', sessionRefused(this.endpoint, 'the device answered 403 again after a fresh KLAP handshake'));
    }
    if (reply.status !== 200) {
      throw new TplinkProtocolError(this.endpoint, 'http-status', `KLAP request answered HTTP ${reply.status}`);
    }
    let decrypted: Buffer;
    try {
      decrypted = klapDecrypt(session.keys, seq, reply.body);
    } catch (err) {
      throw new StaleSession('undecryptable reply', new TplinkProtocolError(this.endpoint, 'decrypt', `KLAP reply of ${reply.body.length} bytes does not decrypt`, err));
    }
    session.used++;
    return parseReplyJson(this.endpoint, decrypted, 'decrypted KLAP reply');
  }

  protected async establish(deadline: number): Promise<KlapSession> {
    const localSeed = randomBytes(KLAP_SEED_LENGTH);
    const first = await this.post(deadline, KLAP_PATHS.handshake1, localSeed);
    if (first.status === 403) {
      // TPAP firmware refuses handshake 1 before any credential check: ask before blaming the app setting.
      const tpap = await this.post(deadline, '/', TPAP_DISCOVER_BODY, { 'Content-Type': 'application/json' }).then(
        (reply) => parseTpapDiscoverReply(reply.body),
        () => undefined,
      );
      if (tpap?.preferred) throw unsupportedTransport(this.endpoint, describeTpap(tpap));
      throw new TplinkAuthenticationError(
        this.endpoint,
        'the device refused KLAP handshake 1 (403); on a Tapo device turn on "Third-Party Compatibility" in the Tapo app',
      );
    }
    if (first.status !== 200) throw new TplinkProtocolError(this.endpoint, 'http-status', `KLAP handshake 1 answered HTTP ${first.status}`);
    if (first.body.length !== KLAP_HANDSHAKE1_REPLY_LENGTH) {
      throw new TplinkProtocolError(
        this.endpoint,
        'unexpected-reply',
        `KLAP handshake 1 answered ${first.body.length} bytes, expected ${KLAP_HANDSHAKE1_REPLY_LENGTH}`,
      );
    }
    const remoteSeed = first.body.subarray(0, KLAP_SEED_LENGTH);
    const serverHash = first.body.subarray(KLAP_SEED_LENGTH);
    const cookie = first.cookies.get(KLAP_SESSION_COOKIE);
    if (cookie === undefined) throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', `KLAP handshake 1 set no ${KLAP_SESSION_COOKIE} cookie`);
    const match = this.matchCredentials(localSeed, remoteSeed, serverHash);
    const second = await this.post(deadline, KLAP_PATHS.handshake2, klapClientHash(match.version, localSeed, remoteSeed, match.auth), {
      Cookie: `${KLAP_SESSION_COOKIE}=${cookie}`,
    });
    if (second.status !== 200) {
      throw new TplinkAuthenticationError(this.endpoint, `the device refused KLAP handshake 2 (HTTP ${second.status})`);
    }
    const keys = deriveKlapSessionKeys(localSeed, remoteSeed, match.auth);
    const expiresAt = sessionExpiry(this.now(), first.cookies.get('TIMEOUT'));
    const session: KlapSession = { version: match.version, keys, seq: keys.initialSeq, cookie, expiresAt, used: 0 };
    this.version = match.version;
    this.sessions.set(this.sessionKey(), session);
    return session;
  }

  /** Which credential (and version) the device's handshake 1 hash proves; checked locally, no round trip. */
  private matchCredentials(localSeed: Buffer, remoteSeed: Buffer, serverHash: Buffer): { version: KlapVersion; auth: Buffer } {
    const versions: KlapVersion[] = this.wantedVersion === 1 ? [1, 2] : [2, 1];
    for (const credentials of candidateCredentials(this.credentials)) {
      for (const version of versions) {
        const auth = klapAuthHash(version, credentials);
        if (hashesEqual(klapServerHash(version, localSeed, remoteSeed, auth), serverHash)) {
          if (credentials !== this.credentials) this.log.debug('KLAP handshake matched default credentials');
          return { version, auth };
        }
      }
    }
    const tried = this.credentials ? 'the given credentials, the default ones and blank' : 'no credentials given; the default ones and blank';
    throw new TplinkAuthenticationError(
      this.endpoint,
      `the device's KLAP handshake matches none of the credentials tried (${tried}); check the TP-Link account email and password`,
    );
  }
}
