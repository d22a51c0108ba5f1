import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHandshakeKeyPair, encryptSessionKey, removePkcs1v15Padding } from '../../../core/tplink/aes-crypto';

describe('the AES handshake key without an RSA library', () => {
  it('recovers key and IV a device encrypted with PKCS#1 v1.5', () => {
    const pair = createHandshakeKeyPair();
    const session = { key: Buffer.alloc(16, 7), iv: Buffer.alloc(16, 9) };
    expect(pair.decryptSessionKey(encryptSessionKey(pair.publicPem, session))).toEqual(session);
  });

  it('removes the padding of a well-formed block and refuses others', () => {
    const ok = Buffer.concat([Buffer.from([0, 2]), Buffer.alloc(8, 0xaa), Buffer.from([0]), Buffer.from('msg')]);
    expect(Buffer.from(removePkcs1v15Padding(ok)).toString()).toBe('msg');
    expect(() => removePkcs1v15Padding(Buffer.concat([Buffer.from([0, 1]), ok.subarray(2)]))).toThrow(RangeError);
    expect(() => removePkcs1v15Padding(Buffer.from([0, 2, 0xaa, 0, 1, 2]))).toThrow(/PKCS#1 v1.5/);
  });

  it('refuses a session key encrypted for another key pair', () => {
    const pair = createHandshakeKeyPair();
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    // Random padding makes some blocks larger than this key's modulus and some smaller: both refused alike.
    for (let i = 0; i < 16; i++) {
      const foreign = publicEncrypt({ key: other, padding: constants.RSA_PKCS1_PADDING }, Buffer.alloc(32, 1)).toString('base64');
      expect(() => pair.decryptSessionKey(foreign)).toThrow(RangeError);
    }
  });
});
