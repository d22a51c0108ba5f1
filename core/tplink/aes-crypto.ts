/**
 * The AES "securePassthrough" transport's cryptography, pure: the client's RSA key pair, the session
 * key the device encrypts with it, AES-128-CBC, the login parameters. Node 20 refuses RSA PKCS#1 v1.5
 * decryption (CVE-2023-46809, a padding oracle in servers that decrypt for anyone), which the devices
 * require: the client decrypts raw and removes the padding itself, of one answer to its own handshake.
 */
import { createCipheriv, createDecipheriv, createHash, generateKeyPairSync, privateDecrypt, publicEncrypt, constants } from 'node:crypto';
import type { Credentials } from './klap-crypto';

export interface AesSessionKey {
  key: Buffer;
  iv: Buffer;
}

export interface HandshakeKeyPair {
  /** What the handshake sends: PEM, SPKI, RSA-1024. */
  publicPem: string;
  /** Recovers the 32 bytes (key ‖ IV) the device encrypted with our public key. */
  decryptSessionKey(encryptedBase64: string): AesSessionKey;
}

/** A fresh RSA-1024 key pair for one handshake (the devices expect 1024 bits). */
export function createHandshakeKeyPair(): HandshakeKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return {
    publicPem,
    decryptSessionKey(encryptedBase64: string): AesSessionKey {
      let block: Buffer;
      try {
        block = privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(encryptedBase64, 'base64'));
      } catch (err) {
        // e.g. a block not made for this key (larger than its modulus): the same answer as bad padding.
        throw new RangeError('AES handshake key: the device\'s RSA block cannot be decrypted with this handshake\'s key', { cause: err });
      }
      const raw = removePkcs1v15Padding(block);
      if (raw.length !== 32) throw new RangeError(`AES handshake key is ${raw.length} bytes, expected 32 (key and IV)`);
      return { key: Buffer.from(raw.subarray(0, 16)), iv: Buffer.from(raw.subarray(16, 32)) };
    },
  };
}

/** EM = 0x00 ‖ 0x02 ‖ at least 8 non-zero bytes ‖ 0x00 ‖ message (RFC 8017 §7.2.2). */
export function removePkcs1v15Padding(block: Uint8Array): Uint8Array {
  const separator = block[0] === 0x00 && block[1] === 0x02 ? block.indexOf(0x00, 2) : -1;
  if (separator < 10) throw new RangeError('AES handshake key: RSA block does not carry PKCS#1 v1.5 padding');
  return block.subarray(separator + 1);
}

/** The device side of the handshake: encrypts key ‖ IV with the client's public key (PKCS#1 v1.5). */
export function encryptSessionKey(publicPem: string, session: AesSessionKey): string {
  const encrypted = publicEncrypt(
    { key: publicPem, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([session.key, session.iv]),
  );
  return encrypted.toString('base64');
}

export function aesEncrypt(session: AesSessionKey, plaintext: Uint8Array | string): string {
  const cipher = createCipheriv('aes-128-cbc', session.key, session.iv);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  return Buffer.concat([cipher.update(data), cipher.final()]).toString('base64');
}

/** Throws on bad length or padding. */
export function aesDecrypt(session: AesSessionKey, base64: string): Buffer {
  const decipher = createDecipheriv('aes-128-cbc', session.key, session.iv);
  return Buffer.concat([decipher.update(Buffer.from(base64, 'base64')), decipher.final()]);
}

export type AesLoginVersion = 1 | 2;

const sha1Hex = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex');
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** `login_device` parameters: v1 sends the password base64-encoded, v2 its SHA-1 (hex, base64-encoded). */
export function aesLoginParams(version: AesLoginVersion, credentials: Credentials): Record<string, string> {
  const username = b64(sha1Hex(credentials.username));
  return version === 2
    ? { username, password2: b64(sha1Hex(credentials.password)) }
    : { username, password: b64(credentials.password) };
}
