/**
 * Where the button function's TP-Link account credentials come from in direct mode (KLAP and AES
 * plugs): none, given directly (tests, the sandbox), or a Secrets Manager secret, fetched when a
 * device first needs them and kept while the container is warm. When a device refuses them the
 * secret is read again (the owner may have rotated the password), at most once per `refreshAfterMs`,
 * so a wrong password costs no fetch per click. Never log what these return.
 */
import type * as SecretsManager from '@aws-sdk/client-secrets-manager';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Credentials } from '../tplink/klap-crypto';
import { sdkName, sdkStatus } from '../s3/s3-errors';
import { ButtonSecretError } from './errors';
import { isObject } from '../util/guards';

export interface PlugCredentialsSource {
  /** The credentials, fetched at the first call and then kept; undefined: none configured. */
  get(): Promise<Credentials | undefined>;
  /**
   * A device refused the credentials: true when a fresh look found different ones (worth one
   * more try now). A source that cannot change answers false.
   */
  refused?(): Promise<boolean>;
}

/** Fixed credentials, or none. */
export function fixedCredentials(credentials?: Credentials): PlugCredentialsSource {
  return { get: () => Promise.resolve(credentials) };
}

/** What the secret holds (SecretString). */
export const CREDENTIALS_SECRET_SHAPE = '{"username": "<TP-Link account email>", "password": "<TP-Link account password>"}';

/** The credentials in a secret's text; errors name the secret and what is wrong, never the text (nor a parser message quoting it). */
export function parseCredentialsSecret(secretId: string, text: string | undefined): Credentials {
  const malformed = (what: string) => new ButtonSecretError(secretId, 'malformed', `${what}; expected ${CREDENTIALS_SECRET_SHAPE}`);
  if (text === undefined) throw malformed('holds no SecretString (binary or empty)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw malformed('is not JSON');
  }
  if (!isObject(value)) throw malformed('is not a JSON object');
  const { username, password } = value;
  if (typeof username !== 'string' || username === '') throw malformed('has no non-empty string "username"');
  if (typeof password !== 'string' || password === '') throw malformed('has no non-empty string "password"');
  return { username, password };
}

export interface SecretCredentialsOptions {
  /** The secret's name or ARN. */
  secretId: string;
  /** Default: the SDK's, with short timeouts, made at the first fetch. */
  client?: SecretsManagerClient | (() => Promise<SecretsManagerClient>);
  /** After a refusal, read the secret again only when the kept copy is at least this old (default 60 s). */
  refreshAfterMs?: number;
  /** Epoch milliseconds. */
  clock?: () => number;
}

export interface SecretCredentials extends PlugCredentialsSource {
  /** GetSecretValue calls made (successful or not). */
  readonly fetches: number;
}

let sdk: Promise<typeof SecretsManager> | undefined;
const loadSdk = () => (sdk ??= import('@aws-sdk/client-secrets-manager'));

/** Errors of Secrets Manager that mean "this role may not read it". */
const DENIED = new Set(['AccessDeniedException', 'DecryptionFailure', 'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException']);

export function secretError(secretId: string, err: unknown): ButtonSecretError {
  const name = sdkName(err);
  const status = sdkStatus(err);
  const said = `${name || 'error'}: ${err instanceof Error ? err.message : String(err)}`;
  if (name === 'ResourceNotFoundException') {
    return new ButtonSecretError(secretId, 'missing', `not found (${said}); create it (docs/deploy.md) or fix the stack's plugCredentialsSecret`, err);
  }
  if (DENIED.has(name) || status === 403) {
    const kms = name === 'DecryptionFailure' ? '; a customer-managed KMS key must let the role decrypt (docs/deploy.md)' : '';
    return new ButtonSecretError(secretId, 'access-denied', `access denied (${said}); the function's role may read only the secret named by plugCredentialsSecret${kms}`, err);
  }
  const retryable = status === undefined || status >= 500 || name === 'ThrottlingException' || (err as { $retryable?: unknown }).$retryable !== undefined;
  return retryable
    ? new ButtonSecretError(secretId, 'unavailable', `Secrets Manager did not answer (${said})`, err)
    : new ButtonSecretError(secretId, 'refused', `Secrets Manager refused the request (${said})`, err);
}

export function secretCredentials(options: SecretCredentialsOptions): SecretCredentials {
  const { secretId } = options;
  const clock = options.clock ?? Date.now;
  const refreshAfterMs = options.refreshAfterMs ?? 60_000;
  let kept: { value: Credentials; at: number } | undefined;
  let pending: Promise<Credentials> | undefined;
  let client: Promise<SecretsManagerClient> | undefined;
  let fetches = 0;

  const clientOf = () =>
    (client ??=
      typeof options.client === 'function'
        ? options.client()
        : options.client
          ? Promise.resolve(options.client)
          : loadSdk().then(({ SecretsManagerClient }) => new SecretsManagerClient({ maxAttempts: 2, requestHandler: { connectionTimeout: 2_000, requestTimeout: 3_000 } })));

  async function fetchNow(): Promise<Credentials> {
    fetches++;
    let text: string | undefined;
    try {
      const { GetSecretValueCommand } = await loadSdk();
      text = (await (await clientOf()).send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      throw secretError(secretId, err);
    }
    const value = parseCredentialsSecret(secretId, text);
    kept = { value, at: clock() };
    return value;
  }
  // One fetch at a time: plugs opened together share it.
  const fetchOnce = () => (pending ??= fetchNow().finally(() => (pending = undefined)));

  return {
    get fetches() {
      return fetches;
    },
    async get() {
      return kept?.value ?? fetchOnce();
    },
    async refused() {
      if (kept === undefined || clock() - kept.at < refreshAfterMs) return false;
      const before = kept.value;
      const after = await fetchOnce();
      return after.username !== before.username || after.password !== before.password;
    },
  };
}
