/**
 * The sandbox's publisher key: an ECDSA P-256 pair beside its CA, kept across restarts like the CA
 * so devices keep trusting its next releases. Uploads are signed with it; the agents trust only it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pemSigner, publicKeyOf, type ReleaseSigner } from '../core/release/signature';
import { errorMessage, ShadowplugError } from '../core/errors';
import { writeFileAtomicSync } from './write-atomic';


/** Where a sandbox in `dir` keeps its publisher key: the private one is what `--signing-key` takes, the public one `--trusted-key`. */
export function publisherKeyPaths(dir: string): { privatePath: string; publicPath: string } {
  const iot = join(dir, 'iot');
  return { privatePath: join(iot, 'publisher.key.pem'), publicPath: join(iot, 'publisher.pub.pem') };
}

/** The key pair of the sandbox in `dir`, made when there is none (or only half of one). */
export function ensurePublisherKey(dir: string): ReturnType<typeof publisherKeyPaths> {
  const paths = publisherKeyPaths(dir);
  if (existsSync(paths.privatePath)) {
    const privatePem = readFileSync(paths.privatePath, 'utf8');
    // Checked here, not at the first upload: a damaged key fails the start, naming the file's problem.
    pemSigner(privatePem);
    const publicPem = publicKeyOf(privatePem).export({ format: 'pem', type: 'spki' }).toString();
    if (!existsSync(paths.publicPath) || readFileSync(paths.publicPath, 'utf8') !== publicPem) writeFileAtomicSync(paths.publicPath, publicPem, 0o644);
    return paths;
  }
  mkdirSync(join(dir, 'iot'), { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileAtomicSync(paths.privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  writeFileAtomicSync(paths.publicPath, publicKey.export({ format: 'pem', type: 'spki' }).toString(), 0o644);
  return paths;
}

/** A signer over the PEM private key at `path` (the sandbox's, or one given by `--signing-key`). */
export function signerFromFile(path: string): ReleaseSigner {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ShadowplugError(`signing key ${path}: ${errorMessage(err)}`, { code: 'RELEASE_KEY_INVALID', retryable: false, cause: err });
  }
  return pemSigner(pem);
}
