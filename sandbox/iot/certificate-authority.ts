/**
 * The sandbox's certificate authority: a CA, a server certificate for 127.0.0.1/localhost, and a
 * client certificate per thing (CN = thing name, OU = thing) and per button (CN = client id,
 * OU = button). PEM files live in one directory and are reused on the next start.
 *
 * Keys come from Node's crypto (native, fast); node-forge only assembles the X.509 structures, and
 * the signature itself is made by Node too (forge's pure-JS RSA takes tens of milliseconds a
 * signature, which matters when a sandbox issues hundreds of device certificates).
 */
import { generateKeyPairSync, privateEncrypt, randomBytes, constants, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { THING_NAME_PATTERN } from '../../core/shadow/topics';
import { IotCoreCertificateError, iotCoreInvalidName } from './errors';
import { writeFileAtomicSync } from '../write-atomic';

export const BUTTON_SERIAL_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A button's client id (and certificate CN) is this prefix and its serial. */
export const BUTTON_CLIENT_PREFIX = 'iotbutton_';

export interface IssuedCertificate {
  certPath: string;
  keyPath: string;
  certPem: string;
  keyPem: string;
}

export type ThingCertificate = IssuedCertificate & { name: string };
export type ButtonCertificate = IssuedCertificate & { serial: string; clientId: string };

export interface CertificateAuthorityOptions {
  /**
   * Give every device certificate issued in this run the same RSA key pair (each certificate is
   * still distinct, with its own CN). RSA-2048 generation costs ~100 ms, so a fleet of 500 things
   * would take a minute to set up; a sandbox or a benchmark may accept the shared key. Off by default.
   */
  sharedDeviceKey?: boolean;
}

const VALIDITY_YEARS = 10;
// DER prefix of a PKCS#1 v1.5 DigestInfo for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

interface KeyPair {
  privatePem: string;
  publicPem: string;
}

function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Something forge's `cert.sign(key, md)` accepts, signing with Node's crypto. */
function nodeSigner(key: KeyObject): { sign(md: forge.md.MessageDigest): string } {
  return {
    sign(md) {
      const digest = Buffer.from(md.digest().getBytes(), 'binary');
      const signature = privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([SHA256_DIGEST_INFO, digest]));
      return signature.toString('binary');
    },
  };
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return bytes.toString('hex');
}

/** A certificate for `keys`, signed by `signer` as `issuer`, written with its key (atomically each). */
function writeCertificate(
  paths: { certPath: string; keyPath: string },
  keys: KeyPair,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  extensions: object[],
  signer: KeyObject,
): string {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + VALIDITY_YEARS * 365 * 86_400_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  cert.setExtensions(extensions);
  cert.sign(nodeSigner(signer) as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  writeFileAtomicSync(paths.keyPath, keys.privatePem, 0o600);
  writeFileAtomicSync(paths.certPath, certPem, 0o644);
  return certPem;
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new IotCoreCertificateError(path, 'cannot read', err);
  }
}

export class CertificateAuthority {
  readonly certPath: string;
  private readonly caCert: forge.pki.Certificate;
  private readonly caX509: X509Certificate;
  private readonly caKey: KeyObject;
  /** Certificates already issued or loaded in this run, by file base name. */
  private readonly issued = new Map<string, IssuedCertificate>();
  private deviceKey?: KeyPair;

  private constructor(
    readonly dir: string,
    readonly certPem: string,
    keyPem: string,
    private readonly options: CertificateAuthorityOptions,
  ) {
    this.certPath = join(dir, 'ca.pem');
    try {
      this.caCert = forge.pki.certificateFromPem(certPem);
      this.caX509 = new X509Certificate(certPem);
      this.caKey = createPrivateKey(keyPem);
    } catch (err) {
      throw new IotCoreCertificateError(this.certPath, 'not a usable CA certificate and key', err);
    }
  }

  /** Load the CA from `dir`, creating it (and the directory) on first use. */
  static open(dir: string, options: CertificateAuthorityOptions = {}): CertificateAuthority {
    mkdirSync(dir, { recursive: true });
    const paths = { certPath: join(dir, 'ca.pem'), keyPath: join(dir, 'ca.key') };
    if (existsSync(paths.certPath) && existsSync(paths.keyPath)) {
      return new CertificateAuthority(dir, readPem(paths.certPath), readPem(paths.keyPath), options);
    }
    const keys = newKeyPair();
    const subject = [
      { name: 'commonName', value: `shadowplug sandbox CA ${randomBytes(4).toString('hex')}` },
      { name: 'organizationName', value: 'shadowplug sandbox' },
    ];
    const extensions = [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ];
    const certPem = writeCertificate(paths, keys, subject, subject, extensions, createPrivateKey(keys.privatePem));
    return new CertificateAuthority(dir, certPem, keys.privatePem, options);
  }

  /** The TLS server certificate for 127.0.0.1 and localhost (all listeners share it). */
  serverCertificate(): IssuedCertificate {
    return this.issue(join(this.dir, 'server'), 'localhost', 'server');
  }

  /** The certificate of thing `name` (CN = name), issued on first use. */
  issueThing(name: string): ThingCertificate {
    if (!THING_NAME_PATTERN.test(name)) throw iotCoreInvalidName('thing name', name, 'expected [a-zA-Z0-9:_-]{1,128}');
    // ':' is legal in thing names but not in every file system; encode it in the file name only.
    const base = join(this.dir, 'things', name.replace(/:/g, '%3A'));
    return { name, ...this.issue(base, name, 'thing') };
  }

  /** The certificate of the button with this serial (CN = client id = `iotbutton_<serial>`). */
  issueButton(serial: string): ButtonCertificate {
    if (!BUTTON_SERIAL_PATTERN.test(serial)) throw iotCoreInvalidName('button serial', serial, 'expected [A-Za-z0-9_-]{1,64}');
    const clientId = `${BUTTON_CLIENT_PREFIX}${serial}`;
    return { serial, clientId, ...this.issue(join(this.dir, 'buttons', serial), clientId, 'button') };
  }

  /** The certificate at `base`, loaded when this CA issued it, else issued afresh (once per run). */
  private issue(base: string, commonName: string, role: 'thing' | 'button' | 'server'): IssuedCertificate {
    const known = this.issued.get(base);
    if (known) return known;
    const certPath = `${base}.cert.pem`;
    const keyPath = `${base}.private.key`;
    let made: IssuedCertificate | undefined;
    // One left over from an earlier CA (the CA files were removed) is issued afresh.
    const certPem = existsSync(certPath) && existsSync(keyPath) ? readPem(certPath) : undefined;
    if (certPem !== undefined && this.issuedByMe(certPem, certPath)) {
      made = { certPath, keyPath, certPem, keyPem: readPem(keyPath) };
    } else {
      mkdirSync(join(base, '..'), { recursive: true });
      const keys = role !== 'server' && this.options.sharedDeviceKey ? (this.deviceKey ??= newKeyPair()) : newKeyPair();
      const subject = [
        { name: 'commonName', value: commonName },
        { shortName: 'OU', value: role },
        { name: 'organizationName', value: 'shadowplug sandbox' },
      ];
      const extensions = [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        ...(role === 'server'
          ? [{ name: 'extKeyUsage', serverAuth: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }]
          : [{ name: 'extKeyUsage', clientAuth: true }]),
      ];
      made = { certPath, keyPath, certPem: writeCertificate({ certPath, keyPath }, keys, subject, this.caCert.subject.attributes, extensions, this.caKey), keyPem: keys.privatePem };
    }
    this.issued.set(base, made);
    return made;
  }

  private issuedByMe(certPem: string, path: string): boolean {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch (err) {
      throw new IotCoreCertificateError(path, 'not a readable certificate', err);
    }
    return cert.checkIssued(this.caX509) && cert.verify(this.caX509.publicKey);
  }
}
