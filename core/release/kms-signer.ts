/**
 * A release signer backed by an AWS KMS key (`ECC_NIST_P256`, `SIGN_VERIFY`): `Sign` with
 * `ECDSA_SHA_256` over the raw manifest bytes (KMS hashes them) returns a DER signature, and
 * `GetPublicKey` the SPKI DER the keyId is computed from.
 */
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { ShadowplugError } from '../errors';
import { sdkName, sdkStatus } from '../s3/s3-errors';
import { keyIdOf, publicKeyOf, type ReleaseSigner } from './signature';

/** The two KMS calls. */
export interface KmsCalls {
  getPublicKey(keyId: string): Promise<{ PublicKey?: Uint8Array; KeySpec?: string; CustomerMasterKeySpec?: string; KeyUsage?: string }>;
  sign(input: { KeyId: string; Message: Uint8Array; MessageType: 'RAW'; SigningAlgorithm: 'ECDSA_SHA_256'; DryRun?: boolean }): Promise<{ Signature?: Uint8Array }>;
}

/** The calls through an `@aws-sdk/client-kms` client. */
export function kmsCalls(client: Pick<KMSClient, 'send'>): KmsCalls {
  return {
    getPublicKey: (KeyId) => client.send(new GetPublicKeyCommand({ KeyId })),
    sign: (input) => client.send(new SignCommand(input)),
  };
}

/** A KMS key that cannot sign releases, or a KMS call that failed; names the key as the publisher gave it. */
export class KmsSignerError extends ShadowplugError {
  readonly kmsKeyId: string;
  constructor(kmsKeyId: string, code: string, detail: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(`KMS key ${kmsKeyId}: ${detail}`, { code, retryable: options.retryable ?? false, cause: options.cause });
    this.kmsKeyId = kmsKeyId;
  }
}

/** KMS errors that say the key is of the wrong kind (a symmetric or RSA key, an encryption key). */
const WRONG_KEY = new Set(['InvalidKeyUsageException', 'UnsupportedOperationException', 'ValidationException']);
const UNUSABLE = new Set(['DisabledException', 'KMSInvalidStateException', 'KeyUnavailableException']);
const DENIED = new Set(['AccessDeniedException', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'IncompleteSignature']);

/** One failed KMS call as a typed error naming the key. */
export function kmsError(kmsKeyId: string, operation: 'GetPublicKey' | 'Sign', err: unknown): KmsSignerError {
  const name = sdkName(err);
  const status = sdkStatus(err);
  // A body the SDK could not parse (a proxy's or a stand-in's page) leaves only the status to go by.
  const unread = err instanceof SyntaxError;
  const said = `${operation}: ${unread ? `HTTP ${status ?? '?'}, an answer that is not KMS's JSON` : `${name || 'error'}${status ? ` (HTTP ${status})` : ''}: ${err instanceof Error ? err.message : String(err)}`}`;
  if (DENIED.has(name) || status === 403) {
    return new KmsSignerError(kmsKeyId, 'RELEASE_KMS_ACCESS_DENIED', `access denied (${said}); the key policy lets only the stack's releasePublisher sign (docs/deploy.md, "Signed releases")`, { cause: err });
  }
  if (name === 'NotFoundException') return new KmsSignerError(kmsKeyId, 'RELEASE_KMS_KEY_NOT_FOUND', `no such key or alias in this account and region (${said})`, { cause: err });
  if (UNUSABLE.has(name)) return new KmsSignerError(kmsKeyId, 'RELEASE_KMS_KEY_UNUSABLE', `the key is disabled, pending deletion or unavailable (${said})`, { cause: err });
  if (WRONG_KEY.has(name)) return new KmsSignerError(kmsKeyId, 'RELEASE_KEY_INVALID', `cannot sign with ECDSA_SHA_256: release signing needs an ECC_NIST_P256 SIGN_VERIFY key (${said})`, { cause: err });
  const retryable = status === undefined || status >= 500 || name === 'ThrottlingException' || name === 'KMSInternalException' || name === 'DependencyTimeoutException';
  return new KmsSignerError(kmsKeyId, retryable ? 'RELEASE_KMS_UNAVAILABLE' : 'RELEASE_KMS_FAILED', `KMS ${retryable ? 'did not answer' : 'refused the request'} (${said})`, { retryable, cause: err });
}

/** A signer over the KMS key `kmsKeyId` (id, ARN, alias name or alias ARN); checks the key and the right to sign once, up front. */
export async function kmsSigner(kms: KmsCalls, kmsKeyId: string): Promise<ReleaseSigner> {
  const pub = await kms.getPublicKey(kmsKeyId).catch((err: unknown) => {
    throw kmsError(kmsKeyId, 'GetPublicKey', err);
  });
  // KMS answers KeySpec (and the deprecated CustomerMasterKeySpec, all that some stand-ins send).
  const spec = pub.KeySpec ?? pub.CustomerMasterKeySpec;
  if (spec !== 'ECC_NIST_P256' || (pub.KeyUsage !== undefined && pub.KeyUsage !== 'SIGN_VERIFY')) {
    throw new KmsSignerError(kmsKeyId, 'RELEASE_KEY_INVALID', `is ${spec ?? 'of no stated key spec'}${pub.KeyUsage ? ` for ${pub.KeyUsage}` : ''}; release signing needs ECC_NIST_P256 for SIGN_VERIFY`);
  }
  if (!pub.PublicKey) throw new KmsSignerError(kmsKeyId, 'RELEASE_KEY_INVALID', 'KMS returned no public key');
  const keyId = keyIdOf(publicKeyOf(Buffer.from(pub.PublicKey)));
  // May this caller sign? Known now, before a publish uploads anything: KMS checks a DryRun
  // request and answers DryRunOperationException instead of signing (a stand-in may just sign).
  await kms.sign({ KeyId: kmsKeyId, Message: Buffer.from('shadowplug'), MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256', DryRun: true }).catch((err: unknown) => {
    if (sdkName(err) !== 'DryRunOperationException') throw kmsError(kmsKeyId, 'Sign', err);
  });
  return {
    keyId,
    async sign(bytes) {
      const out = await kms.sign({ KeyId: kmsKeyId, Message: bytes, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }).catch((err: unknown) => {
        throw kmsError(kmsKeyId, 'Sign', err);
      });
      if (!out.Signature) throw new KmsSignerError(kmsKeyId, 'RELEASE_SIGN_FAILED', 'KMS Sign returned no signature', { retryable: true });
      return Buffer.from(out.Signature);
    },
  };
}
