/**
 * Standard, not home-made: the manifest's signature is what `openssl dgst -sha256 -sign` makes
 * over the documented canonical bytes, in both directions, and keyId is OpenSSL's SPKI digest.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, manifestBytes, type ReleaseManifest } from '../../../core/release/manifest';
import { keyIdOf, pemSigner, publicKeyOf, signManifest } from '../../../core/release/signature';
import { checkRelease, trustedKeys } from '../../../core/release/trust';

const openssl = (...args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

describe('release signatures and openssl', () => {
  let dir: string;
  let keyPath: string;
  let pubPath: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-openssl-'));
    keyPath = join(dir, 'publisher.key.pem');
    pubPath = join(dir, 'publisher.pub.pem');
    openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath);
    openssl('ec', '-in', keyPath, '-pubout', '-out', pubPath);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const manifestFor = (keyId: string): ReleaseManifest => ({
    format: 1,
    bucket: 'firmware-bucket',
    key: 'releases/fw.bin',
    versionId: '3HL4kqtJvjVBH40Nrjfkd',
    sha256: 'a'.repeat(64),
    size: 1234,
    release: 3,
    expires: '2099-01-01T00:00:00Z',
    keyId,
  });

  it('keyId is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl computes it', () => {
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', pubPath, '-outform', 'DER']);
    const digest = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der, encoding: 'utf8' }).split(' ')[0];
    expect(keyIdOf(publicKeyOf(readFileSync(pubPath, 'utf8')))).toBe(digest);
  });

  it('the agent accepts a manifest signed by `openssl dgst -sha256 -sign` over the canonical bytes', () => {
    const keyId = keyIdOf(publicKeyOf(readFileSync(pubPath, 'utf8')));
    const manifest = manifestFor(keyId);
    // What a publisher without shadowplug does: write the canonical JSON by hand, sign it with openssl.
    const text = `{"bucket":"firmware-bucket","expires":"2099-01-01T00:00:00Z","format":1,"key":"releases/fw.bin","keyId":"${keyId}","release":3,"sha256":"${'a'.repeat(64)}","size":1234,"versionId":"3HL4kqtJvjVBH40Nrjfkd"}`;
    expect(text).toBe(canonicalJson(manifest));
    writeFileSync(join(dir, 'manifest.json'), text);
    openssl('dgst', '-sha256', '-sign', keyPath, '-out', join(dir, 'manifest.sig'), join(dir, 'manifest.json'));
    const signature = readFileSync(join(dir, 'manifest.sig')).toString('base64');
    const desired = { raw: { manifest: JSON.parse(text) as unknown, signature }, bucket: manifest.bucket, key: manifest.key, versionId: manifest.versionId, hash: manifest.sha256, size: manifest.size };
    expect(checkRelease(desired, trustedKeys([readFileSync(pubPath, 'utf8')]), undefined, Date.parse('2030-01-01T00:00:00Z'))).toEqual({ ok: true, manifest });
  });

  it('the publisher signs so that `openssl dgst -sha256 -verify` says Verified OK', async () => {
    const signer = pemSigner(readFileSync(keyPath, 'utf8'));
    const signed = await signManifest(manifestFor(signer.keyId), signer);
    writeFileSync(join(dir, 'ours.json'), manifestBytes(signed.manifest));
    writeFileSync(join(dir, 'ours.sig'), Buffer.from(signed.signature, 'base64'));
    expect(openssl('dgst', '-sha256', '-verify', pubPath, '-signature', join(dir, 'ours.sig'), join(dir, 'ours.json')).trim()).toBe('Verified OK');
  });
});
