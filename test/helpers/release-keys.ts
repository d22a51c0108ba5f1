/** P-256 key pairs written as PEM files, and signed desired values, for the trust tests. */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expiresText, type ReleaseManifest } from '../../core/release/manifest';
import { keyIdOf, pemSigner, signManifest } from '../../core/release/signature';

export interface TestKey {
  privatePem: string;
  publicPem: string;
  privatePath: string;
  publicPath: string;
  keyId: string;
}

export function makeKey(dir: string, name: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  writeFileSync(privatePath, privatePem);
  writeFileSync(publicPath, publicPem);
  return { privatePem, publicPem, privatePath, publicPath, keyId: keyIdOf(publicKey) };
}

export interface PlainDesired {
  url: string;
  hash: string;
  size: number;
  bucket?: string;
  key?: string;
  versionId?: string;
}

/** `desired` with `manifest` and `signature` added, as the object Lambda copies them from the companion. */
export async function signDesired(
  desired: PlainDesired & { bucket: string; key: string },
  key: TestKey,
  opts: { release: number; expires?: Date; manifest?: Partial<ReleaseManifest> },
): Promise<Record<string, unknown>> {
  const manifest: ReleaseManifest = {
    format: 1,
    bucket: desired.bucket,
    key: desired.key,
    ...(desired.versionId ? { versionId: desired.versionId } : {}),
    sha256: desired.hash,
    size: desired.size,
    release: opts.release,
    expires: expiresText(opts.expires ?? new Date(Date.now() + 86_400_000)),
    keyId: key.keyId,
    ...opts.manifest,
  };
  const signed = await signManifest(manifest, pemSigner(key.privatePem));
  return { ...desired, manifest: signed.manifest, signature: signed.signature };
}
