import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  deriveKlapSessionKeys,
  klapAuthHash,
  klapClientHash,
  klapDecrypt,
  klapEncrypt,
  klapServerHash,
  klapSignatureValid,
  type KlapVersion,
} from '../../../core/tplink/klap-crypto';
import { aesDecrypt, aesEncrypt, aesLoginParams, encryptSessionKey } from '../../../core/tplink/aes-crypto';
import { pythonPeer } from '../../helpers/python-peer';

interface KlapVectors {
  auth: string;
  server_hash: string;
  client_hash: string;
  requests: { seq: number; body: string; decrypted: string }[];
}
interface Vectors {
  v1: KlapVectors;
  v2: KlapVectors;
  aes: {
    encrypted: string;
    decrypted: string;
    login_v1: Record<string, string>;
    login_v2: Record<string, string>;
    rsa_decrypted: string;
    public_pem_b64: string;
  };
}

// Fixed seeds and credentials (non-ASCII included: both sides hash UTF-8 bytes).
const input = {
  username: 'user@example.com',
  password: 'pässwörd-1',
  local: '000102030405060708090a0b0c0d0e0f',
  remote: 'f0e0d0c0b0a090807060504030201000',
  message: JSON.stringify({ method: 'get_device_info', params: { nickname: 'Küche' } }),
  requests: 3,
  aes_key: '11223344556677889900aabbccddeeff',
  aes_iv: 'ffeeddccbbaa00998877665544332211',
};

describe('crypto vectors computed by python-kasa at test time', () => {
  it('KLAP v1 and v2: auth hash, both handshake hashes, and each request body for consecutive sequence numbers', async () => {
    const vectors = await pythonPeer<Vectors>('kasa_vectors.py', input);
    const local = Buffer.from(input.local, 'hex');
    const remote = Buffer.from(input.remote, 'hex');
    for (const version of [1, 2] as KlapVersion[]) {
      const theirs = version === 1 ? vectors.v1 : vectors.v2;
      const auth = klapAuthHash(version, input);
      expect(auth.toString('hex')).toBe(theirs.auth);
      expect(klapServerHash(version, local, remote, auth).toString('hex')).toBe(theirs.server_hash);
      expect(klapClientHash(version, local, remote, auth).toString('hex')).toBe(theirs.client_hash);
      const keys = deriveKlapSessionKeys(local, remote, auth);
      theirs.requests.forEach((request, i) => {
        // python-kasa increments before each request, as we do.
        expect(request.seq).toBe(keys.initialSeq + 1 + i);
        const ours = klapEncrypt(keys, request.seq, Buffer.from(input.message));
        expect(ours.toString('hex')).toBe(request.body);
        expect(klapSignatureValid(keys, request.seq, ours)).toBe(true);
        expect(klapDecrypt(keys, request.seq, Buffer.from(request.body, 'hex')).toString()).toBe(input.message);
        expect(request.decrypted).toBe(input.message);
      });
    }
  });

  it('AES: inner-request ciphertext, login parameters v1 and v2, and an RSA-PKCS#1 v1.5 session key python-kasa can open', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sessionKey = { key: randomBytes(16), iv: randomBytes(16) };
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const vectors = await pythonPeer<Vectors>('kasa_vectors.py', {
      ...input,
      rsa_private_der: privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64'),
      rsa_public_der: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
      rsa_encrypted: encryptSessionKey(publicPem, sessionKey),
    });
    const session = { key: Buffer.from(input.aes_key, 'hex'), iv: Buffer.from(input.aes_iv, 'hex') };
    expect(aesEncrypt(session, input.message)).toBe(vectors.aes.encrypted);
    expect(aesDecrypt(session, vectors.aes.encrypted).toString()).toBe(input.message);
    expect(aesLoginParams(1, input)).toEqual(vectors.aes.login_v1);
    expect(aesLoginParams(2, input)).toEqual(vectors.aes.login_v2);
    expect(vectors.aes.rsa_decrypted).toBe(Buffer.concat([sessionKey.key, sessionKey.iv]).toString('hex'));
  });
});
