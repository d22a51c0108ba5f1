/**
 * Where the button function's TP-Link account credentials come from in direct mode (KLAP and AES
 * plugs): none, given directly (tests, the sandbox), or a secret (secret-credentials.ts). Pure.
 * Never log what these return.
 */
import type { Credentials } from '../tplink/klap-crypto';
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
