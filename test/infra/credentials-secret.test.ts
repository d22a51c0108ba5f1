/**
 * The plug credentials secret (direct mode): the button function may read that secret and no
 * other, is told its name, and nothing of Secrets Manager is granted when none is configured. A
 * secret given in relay mode is refused at synth, naming the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUTTON_ENV } from '../../core/button/config';
import { ContextError } from '../../lib/errors';
import { renderList } from './render';
import { resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const SM = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';
const COMPLETE = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:shadowplug/tplink-AbC123';
const PARTIAL = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:shadowplug/tplink';

const direct = { plugMode: 'direct', plugHost: '192.168.1.20' };
const synths: Synthesis[] = [];
let byName: Synthesis;
let none: Synthesis;

function secretStatements(s: Synthesis): [string[], string[]][] {
  return roleStatements(s, resourceId(s, 'AWS::IAM::Role', 'ButtonPathHandlerRole'))
    .filter((st) => renderList(st.Action).some((a) => a.startsWith('secretsmanager:')))
    .map((st) => [renderList(st.Action).sort(), renderList(st.Resource)]);
}

function variables(s: Synthesis): Record<string, unknown> {
  const fn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction')]!;
  return (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
}

beforeAll(() => {
  byName = synthesize({ ...direct, plugCredentialsSecret: 'shadowplug/tplink' }, { bundle: false });
  none = synthesize(direct, { bundle: false });
  synths.push(byName, none);
}, 120_000);
afterAll(() => synths.forEach((s) => s.close()));

describe('plugCredentialsSecret (direct mode)', () => {
  it('lets the button function read only that secret (by name: any version suffix), and tells it the name', () => {
    expect(secretStatements(byName)).toEqual([[['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], [`${SM}:shadowplug/tplink-??????`]]]);
    expect(variables(byName)[BUTTON_ENV.plugCredentialsSecret]).toBe('shadowplug/tplink');
  });

  it.each([
    ['a complete ARN', COMPLETE, COMPLETE],
    ['a partial ARN', PARTIAL, `${PARTIAL}-??????`],
  ])('grants exactly the secret given as %s', (_what, given, resource) => {
    const s = synthesize({ ...direct, plugCredentialsSecret: given }, { bundle: false });
    synths.push(s);
    expect(secretStatements(s)).toEqual([[['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], [resource]]]);
    expect(variables(s)[BUTTON_ENV.plugCredentialsSecret]).toBe(given);
  }, 120_000);

  it('grants nothing of Secrets Manager, and sets no variable, when no secret is configured', () => {
    expect(secretStatements(none)).toEqual([]);
    expect(variables(none)[BUTTON_ENV.plugCredentialsSecret]).toBeUndefined();
  });

  it('gives the function time for one secret read on top of the plugs', () => {
    const timeout = (s: Synthesis) => s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction')]!.Properties?.Timeout as number;
    expect(timeout(byName) - timeout(none)).toBe(10);
  });

  it('refuses a secret in relay mode, naming the key (the credentials stay on the LAN)', () => {
    let error: unknown;
    try {
      synthesize({ plugCredentialsSecret: 'shadowplug/tplink' }, { bundle: false }).close();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ContextError);
    expect(error).toMatchObject({ key: 'plugCredentialsSecret' });
    expect((error as Error).message).toContain('plugMode=direct');
  }, 60_000);

  it('refuses a value that is neither a secret name nor an ARN, naming the key', () => {
    expect(() => synthesize({ ...direct, plugCredentialsSecret: 'not a secret!' }, { bundle: false })).toThrow(/context "plugCredentialsSecret"/);
  }, 60_000);
});
