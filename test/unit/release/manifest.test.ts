import { describe, expect, it } from 'vitest';
import { canonicalJson, manifestBytes, parseManifest, readSignedRelease, type ReleaseManifest } from '../../../core/release/manifest';
import { checkRelease, trustedKeys, EXPIRY_SKEW_MS } from '../../../core/release/trust';
import { pemSigner, signManifest } from '../../../core/release/signature';
import { generateKeyPairSync } from 'node:crypto';

const manifest: ReleaseManifest = {
  format: 1,
  bucket: 'firmware-bucket',
  key: 'releases/fw.bin',
  versionId: 'v-1',
  sha256: 'ab'.repeat(32),
  size: 1048576,
  release: 7,
  expires: '2027-01-05T16:00:00Z',
  keyId: 'cd'.repeat(32),
};

describe('canonical JSON (the RFC 8785 subset manifests are signed in)', () => {
  it('sorts keys, has no whitespace, writes integers plainly and strings as UTF-8', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'é\n'], c: { z: -2, y: 'x' } })).toBe('{"a":[true,null,"é\\n"],"b":1,"c":{"y":"x","z":-2}}');
    expect(Buffer.from(canonicalJson({ k: 'é' }), 'utf8')).toEqual(Buffer.from('{"k":"\xc3\xa9"}', 'latin1'));
  });

  it('refuses fractions, -0, unsafe integers and values without a JSON form', () => {
    for (const bad of [1.5, -0, 2 ** 53, () => 1, 10n]) expect(() => canonicalJson({ n: bad })).toThrow(/RELEASE_MALFORMED|canonical JSON/);
  });

  it('gives the manifest its documented bytes', () => {
    expect(manifestBytes(manifest).toString('utf8')).toBe(
      `{"bucket":"firmware-bucket","expires":"2027-01-05T16:00:00Z","format":1,"key":"releases/fw.bin","keyId":"${'cd'.repeat(32)}","release":7,"sha256":"${'ab'.repeat(32)}","size":1048576,"versionId":"v-1"}`,
    );
  });
});

describe('parseManifest', () => {
  it('accepts the documented form and refuses unknown fields, fractions and loose dates', () => {
    expect(parseManifest(JSON.parse(JSON.stringify(manifest)))).toEqual(manifest);
    expect(() => parseManifest({ ...manifest, extra: 1 })).toThrow(/unknown field "extra"/);
    expect(() => parseManifest({ ...manifest, release: 1.5 })).toThrow(/release/);
    expect(() => parseManifest({ ...manifest, expires: '2027-01-05' })).toThrow(/expires/);
    expect(() => parseManifest({ ...manifest, sha256: 'AB'.repeat(32) })).toThrow(/sha256/);
  });

  it('reads nothing from a value without manifest or signature', () => {
    expect(readSignedRelease({ url: 's3://b/k', hash: 'x' })).toBeUndefined();
  });
});

describe('checkRelease', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = pemSigner(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
  const trusted = trustedKeys([publicKey.export({ format: 'pem', type: 'spki' }).toString()]);
  const m = { ...manifest, keyId: signer.keyId };
  const desired = async (over: Partial<ReleaseManifest> = {}) => {
    const signed = await signManifest({ ...m, ...over }, signer);
    return { raw: { ...signed }, bucket: m.bucket, key: m.key, versionId: m.versionId, hash: m.sha256, size: m.size };
  };
  const now = Date.parse(m.expires);

  it('accepts up to the skew tolerance past expires, and refuses after it', async () => {
    expect((checkRelease(await desired(), trusted, undefined, now + EXPIRY_SKEW_MS)).ok).toBe(true);
    expect(checkRelease(await desired(), trusted, undefined, now + EXPIRY_SKEW_MS + 1)).toMatchObject({ ok: false, code: 'RELEASE_EXPIRED' });
  });

  it('accepts the same release with the same bytes again (a reinstall), not with other bytes', async () => {
    expect(checkRelease(await desired(), trusted, { release: 7, sha256: m.sha256 }, now).ok).toBe(true);
    expect(checkRelease(await desired(), trusted, { release: 7, sha256: 'ef'.repeat(32) }, now)).toMatchObject({ ok: false, code: 'RELEASE_ROLLBACK' });
    expect(checkRelease(await desired(), trusted, { release: 8, sha256: m.sha256 }, now)).toMatchObject({ ok: false, code: 'RELEASE_ROLLBACK' });
  });

  it('refuses a malformed manifest as RELEASE_MALFORMED and a size the value does not name as RELEASE_MISMATCH', async () => {
    const d = await desired();
    expect(checkRelease({ ...d, raw: { ...d.raw, signature: 'not base64!' } }, trusted, undefined, now)).toMatchObject({ ok: false, code: 'RELEASE_MALFORMED' });
    expect(checkRelease({ ...d, size: m.size + 1 }, trusted, undefined, now)).toMatchObject({ ok: false, code: 'RELEASE_MISMATCH' });
  });
});
