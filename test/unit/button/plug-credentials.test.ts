/**
 * The credentials secret's value and Secrets Manager's errors, as the button function reads them:
 * errors name the secret and what is wrong, never the value, and say whether a retry can help.
 */
import { describe, expect, it } from 'vitest';
import { ButtonSecretError } from '../../../core/button/errors';
import { parseCredentialsSecret } from '../../../core/button/secret-credentials';
import { secretError } from '../../../core/button/secret-credentials';

const ID = 'shadowplug/tplink';
const PASSWORD = 'hunter2-but-longer';

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), { name, ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }), ...extra });
}

describe('parseCredentialsSecret', () => {
  it('reads {"username", "password"}', () => {
    expect(parseCredentialsSecret(ID, JSON.stringify({ username: 'me@example.com', password: PASSWORD, note: 'ignored' }))).toEqual({ username: 'me@example.com', password: PASSWORD });
  });

  it.each([
    ['binary (no SecretString)', undefined, 'holds no SecretString'],
    ['not JSON', `password=${PASSWORD}`, 'is not JSON'],
    ['a JSON list', JSON.stringify([PASSWORD]), 'is not a JSON object'],
    ['no username', JSON.stringify({ user: 'me', password: PASSWORD }), 'no non-empty string "username"'],
    ['an empty password', JSON.stringify({ username: 'me', password: '' }), 'no non-empty string "password"'],
    ['a numeric password', JSON.stringify({ username: 'me', password: 1234 }), 'no non-empty string "password"'],
  ])('refuses %s, naming the secret and the shape, not the value', (_what, text, problem) => {
    let error: unknown;
    try {
      parseCredentialsSecret(ID, text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ButtonSecretError);
    expect(error).toMatchObject({ code: 'BUTTON_SECRET_MALFORMED', secretId: ID, retryable: false });
    const message = (error as Error).message;
    expect(message).toContain(`"${ID}"`);
    expect(message).toContain(problem);
    expect(message).toContain('{"username"');
    expect(message).not.toContain(PASSWORD);
    expect((error as Error).cause).toBeUndefined();
  });
});

describe('secretError', () => {
  it.each([
    ['ResourceNotFoundException', 400, 'BUTTON_SECRET_MISSING', false],
    ['AccessDeniedException', 400, 'BUTTON_SECRET_ACCESS_DENIED', false],
    ['DecryptionFailure', 400, 'BUTTON_SECRET_ACCESS_DENIED', false],
    ['InvalidRequestException', 400, 'BUTTON_SECRET_REFUSED', false],
    ['ThrottlingException', 400, 'BUTTON_SECRET_UNAVAILABLE', true],
    ['InternalServiceError', 500, 'BUTTON_SECRET_UNAVAILABLE', true],
    ['TimeoutError', undefined, 'BUTTON_SECRET_UNAVAILABLE', true],
  ])('%s (HTTP %s) → %s, retryable %s, naming the secret and keeping the cause', (name, status, code, retryable) => {
    const cause = sdkError(name, status);
    const error = secretError(ID, cause);
    expect(error).toMatchObject({ code, retryable, secretId: ID, cause });
    expect(error.message).toContain(`plug credentials secret "${ID}"`);
    expect(error.message).toContain(name);
  });

  it('says what the KMS key needs when Secrets Manager cannot decrypt', () => {
    expect(secretError(ID, sdkError('DecryptionFailure', 400)).message).toContain('customer-managed KMS key');
  });
});
