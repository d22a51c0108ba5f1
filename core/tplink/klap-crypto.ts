/** KLAP's cryptography, pure: credential hash and handshake proofs (v1 MD5, v2 SHA-1/256), the session. */
import { createCipheriv, createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

export type KlapVersion = 1 | 2;

export interface Credentials {
  username: string;
  password: string;
}

/** Signature (32 bytes) before the ciphertext in every request and reply body. */
export const KLAP_SIGNATURE_LENGTH = 32;
export const KLAP_SEED_LENGTH = 16;
/** Handshake 1's reply: the device's seed, then its proof (a SHA-256). */
export const KLAP_HANDSHAKE1_REPLY_LENGTH = KLAP_SEED_LENGTH + 32;

/** KLAP's HTTP paths (the request path carries the sequence number as `?seq=`). */
export const KLAP_PATHS = { handshake1: '/app/handshake1', handshake2: '/app/handshake2', request: '/app/request' } as const;
/** The session cookie set by handshake 1 and sent back with every later request. */
export const KLAP_SESSION_COOKIE = 'TP_SESSIONID';
/** Session lifetime when the device sets no TIMEOUT cookie, in seconds. */
export const KLAP_DEFAULT_TIMEOUT_SECONDS = 86400;

export function klapRequestPath(seq: number): string {
  return `${KLAP_PATHS.request}?seq=${seq}`;
}

const INT32_MAX = 0x7fffffff;

function digest(algorithm: 'md5' | 'sha1' | 'sha256', ...parts: Uint8Array[]): Buffer {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/** The credential hash both sides derive from the TP-Link account's email and password. */
export function klapAuthHash(version: KlapVersion, credentials: Credentials): Buffer {
  if (version === 1) return digest('md5', digest('md5', utf8(credentials.username)), digest('md5', utf8(credentials.password)));
  return digest('sha256', digest('sha1', utf8(credentials.username)), digest('sha1', utf8(credentials.password)));
}

/** What the device sends after its seed in handshake 1: proof it knows the credentials. */
export function klapServerHash(version: KlapVersion, localSeed: Uint8Array, remoteSeed: Uint8Array, authHash: Uint8Array): Buffer {
  return version === 1 ? digest('sha256', localSeed, authHash) : digest('sha256', localSeed, remoteSeed, authHash);
}

/** What the client sends in handshake 2: its own proof. */
export function klapClientHash(version: KlapVersion, localSeed: Uint8Array, remoteSeed: Uint8Array, authHash: Uint8Array): Buffer {
  return version === 1 ? digest('sha256', remoteSeed, authHash) : digest('sha256', remoteSeed, localSeed, authHash);
}

/** Constant-time comparison of two hashes. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface KlapSessionKeys {
  key: Buffer;
  iv12: Buffer;
  sigKey: Buffer;
  /** The sequence number before the first request (each request increments it first). */
  initialSeq: number;
}

export function deriveKlapSessionKeys(localSeed: Uint8Array, remoteSeed: Uint8Array, authHash: Uint8Array): KlapSessionKeys {
  const ivHash = digest('sha256', utf8('iv'), localSeed, remoteSeed, authHash);
  return {
    key: digest('sha256', utf8('lsk'), localSeed, remoteSeed, authHash).subarray(0, 16),
    iv12: ivHash.subarray(0, 12),
    sigKey: digest('sha256', utf8('ldk'), localSeed, remoteSeed, authHash).subarray(0, 28),
    initialSeq: ivHash.readInt32BE(28),
  };
}

function seqBytes(seq: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(seq, 0);
  return b;
}

function ivFor(keys: KlapSessionKeys, seq: number): Buffer {
  return Buffer.concat([keys.iv12, seqBytes(seq)]);
}

/** Whether a session can send another request without the sequence number leaving int32. */
export function klapSeqExhausted(seq: number): boolean {
  return seq >= INT32_MAX;
}

/** The body of the request numbered `seq`: signature ‖ AES-128-CBC(plaintext). */
export function klapEncrypt(keys: KlapSessionKeys, seq: number, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('aes-128-cbc', keys.key, ivFor(keys, seq));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const signature = digest('sha256', keys.sigKey, seqBytes(seq), ciphertext);
  return Buffer.concat([signature, ciphertext]);
}

/** Whether `body`'s signature is right for `seq`. */
export function klapSignatureValid(keys: KlapSessionKeys, seq: number, body: Uint8Array): boolean {
  if (body.length < KLAP_SIGNATURE_LENGTH) return false;
  const expected = digest('sha256', keys.sigKey, seqBytes(seq), body.subarray(KLAP_SIGNATURE_LENGTH));
  return hashesEqual(expected, body.subarray(0, KLAP_SIGNATURE_LENGTH));
}

/** Decrypts a body (of a request or its reply) numbered `seq`. Throws on bad length or padding. */
export function klapDecrypt(keys: KlapSessionKeys, seq: number, body: Uint8Array): Buffer {
  const ciphertext = body.subarray(KLAP_SIGNATURE_LENGTH);
  if (ciphertext.length === 0 || ciphertext.length % 16 !== 0) {
    throw new RangeError(`KLAP body of ${body.length} bytes is not a signature and whole AES blocks`);
  }
  const decipher = createDecipheriv('aes-128-cbc', keys.key, ivFor(keys, seq));
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
