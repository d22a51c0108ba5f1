/** The sandbox's publisher key pair: made once beside the CA, kept, and checked when reused. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePublisherKey, signerFromFile } from '../../../sandbox/publisher-key';
import { keyIdOf, publicKeyOf } from '../../../core/release/signature';

describe('the sandbox publisher key', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'publisher-key-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is made beside the CA on first use, private half 0600, and the same pair comes back on the next start', () => {
    const first = ensurePublisherKey(dir);
    expect(first).toEqual({ privatePath: join(dir, 'iot', 'publisher.key.pem'), publicPath: join(dir, 'iot', 'publisher.pub.pem') });
    expect(statSync(first.privatePath).mode & 0o777).toBe(0o600);
    const pem = readFileSync(first.privatePath, 'utf8');
    ensurePublisherKey(dir);
    expect(readFileSync(first.privatePath, 'utf8')).toBe(pem);
    // The public file is the private key's own half: what devices trust is what uploads are signed with.
    expect(signerFromFile(first.privatePath).keyId).toBe(keyIdOf(publicKeyOf(readFileSync(first.publicPath, 'utf8'))));
  });

  it('writes the public half again when it is missing or another key, and refuses a private key that is not P-256', () => {
    const { privatePath, publicPath } = ensurePublisherKey(dir);
    const good = readFileSync(publicPath, 'utf8');
    writeFileSync(publicPath, 'not a key');
    ensurePublisherKey(dir);
    expect(readFileSync(publicPath, 'utf8')).toBe(good);
    writeFileSync(privatePath, 'garbage');
    expect(() => ensurePublisherKey(dir)).toThrow(expect.objectContaining({ code: 'RELEASE_KEY_INVALID' }));
    expect(() => signerFromFile(join(dir, 'missing.pem'))).toThrow(/signing key .*missing\.pem: .*ENOENT/);
  });
});
