/**
 * The release-signing KMS key (context `releasePublisher`): created only on request, asymmetric
 * P-256 for signing, retained, and usable for Sign by the named publisher alone — no other key
 * policy statement and no role of the stack may sign.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { render, renderList } from './render';
import { synthesize, type Synthesis } from './synth';

const PUBLISHER = 'arn:aws:iam::123456789012:role/release-publisher';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Principal?: { AWS?: unknown; Service?: unknown };
  Condition?: unknown;
}

/** Does an IAM action pattern (`kms:Get*`, `kms:*`, `*`) cover `action`? */
function covers(pattern: string, action: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return re.test(action);
}

const keysOf = (s: Synthesis) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === 'AWS::KMS::Key');

let withKey: Synthesis;
let without: Synthesis;

beforeAll(() => {
  withKey = synthesize({ releasePublisher: PUBLISHER }, { bundle: false });
  without = synthesize({}, { bundle: false });
}, 300_000);

afterAll(() => {
  withKey?.close();
  without?.close();
});

function signingKey(): { id: string; resource: Synthesis['json']['Resources'][string] & { DeletionPolicy?: string; UpdateReplacePolicy?: string } } {
  const found = keysOf(withKey).filter(([, r]) => r.Properties?.KeyUsage === 'SIGN_VERIFY');
  expect(found).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, resource };
}

const statementsOf = (resource: { Properties?: Record<string, unknown> }) => (resource.Properties?.KeyPolicy as { Statement: Statement[] }).Statement;

describe('without releasePublisher', () => {
  it('creates no signing key and no signing output; the devices are told to trust no key', () => {
    expect(keysOf(without).map(([, r]) => r.Properties?.KeyUsage ?? 'ENCRYPT_DECRYPT')).toEqual(['ENCRYPT_DECRYPT']);
    expect(Object.keys(without.json.Outputs).filter((o) => /Release/.test(o))).toEqual([]);
    expect(JSON.stringify(without.json.Outputs)).not.toContain('--trusted-key');
  });
});

describe('with releasePublisher', () => {
  it('creates an asymmetric ECC_NIST_P256 key for SIGN_VERIFY, kept when the stack is deleted or the key replaced', () => {
    const { resource } = signingKey();
    expect(resource.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    // Asymmetric keys cannot rotate: rotation is a second key (docs/deploy.md).
    expect(resource.Properties?.EnableKeyRotation).toBeUndefined();
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
  });

  it('lets the publisher, and only the publisher, Sign (and read the public key)', () => {
    const statements = statementsOf(signingKey().resource);
    const allowSign = statements.filter((st) => st.Effect === 'Allow' && renderList(st.Action).some((a) => covers(a, 'kms:Sign')));
    expect(allowSign).toHaveLength(1);
    expect(allowSign[0]!.Principal).toEqual({ AWS: PUBLISHER });
    expect(renderList(allowSign[0]!.Action).sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
    // The account administers the key through IAM, but nothing delegated to it can sign or create a grant.
    const forAccount = statements.filter((st) => st.Effect === 'Allow' && st.Principal?.AWS !== PUBLISHER);
    expect(forAccount.map((st) => render(st.Principal?.AWS))).toEqual(['arn:aws:iam::123456789012:root']);
    for (const action of ['kms:Sign', 'kms:Verify', 'kms:CreateGrant', 'kms:Encrypt', 'kms:Decrypt']) {
      expect(renderList(forAccount[0]!.Action).filter((a) => covers(a, action)), action).toEqual([]);
    }
    expect(renderList(forAccount[0]!.Action).some((a) => covers(a, 'kms:PutKeyPolicy'))).toBe(true);
    // Grants for anyone but AWS services acting for a resource are denied (Control Tower CT.KMS.PR.3).
    expect(statements.filter((st) => st.Effect === 'Deny').map((st) => st.Action)).toEqual(['kms:CreateGrant']);
  });

  it('gives no role of the stack any use of a KMS key for signing', () => {
    const { id } = signingKey();
    const policies = Object.values(withKey.json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::Role');
    const text = JSON.stringify(policies);
    expect(text).not.toContain(id);
    expect(text).not.toMatch(/"kms:(Sign|\*)"/);
  });

  it('outputs the key ARN, the one command that writes its public key as PEM, and --trusted-key in each agent command', () => {
    const { id } = signingKey();
    const out = withKey.json.Outputs as Record<string, { Value: unknown; Description: string }>;
    expect(render(out.ReleaseSigningKeyArn!.Value)).toBe(`<${id}.Arn>`);
    expect(out.ReleaseSigningKeyArn!.Description).toContain('--kms-key-id');
    expect(render(out.ReleasePublicKeyCommand!.Value)).toBe(
      `aws kms get-public-key --region eu-west-1 --key-id <${id}.Arn> --query PublicKey --output text | base64 --decode | openssl pkey -pubin -inform DER -out release-signing.pub.pem`,
    );
    expect(out.ReleasePublicKeyCommand!.Description).toMatch(/CloudFormation cannot output/);
    expect(JSON.stringify(out.AgentCommand1!.Value)).toContain('--trusted-key /etc/shadowplug/release-signing.pub.pem');
  });

  it('passes cdk-nag with nothing acknowledged for the key', () => {
    const nag = withKey.validationReport.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag?.violations).toEqual([]);
    const forKey = nag?.suppressedViolations.filter((v) => v.violatingConstructs.some((c) => c.constructPath.includes('ReleaseSigning')));
    expect(forKey).toEqual([]);
  });
});

describe('a releasePublisher that is not one IAM role or user', () => {
  it.each([
    ['a session ARN', 'arn:aws:sts::123456789012:assumed-role/Admin/alice', /is one session of a role .* give the role, arn:aws:iam::<account>:role\/<path>Admin \(aws iam get-role --role-name Admin/],
    ['the account root', 'arn:aws:iam::123456789012:root', /is the whole account/],
    ['an account id', '123456789012', /is the whole account/],
    ['a wildcard', 'arn:aws:iam::123456789012:role/*', /is not an IAM role or user ARN/],
    ['a group', 'arn:aws:iam::123456789012:group/publishers', /is not an IAM role or user ARN/],
    ['a short account', 'arn:aws:iam::1234:role/publisher', /is not an IAM role or user ARN/],
    ['a bare name', 'publisher', /is not an IAM role or user ARN/],
  ])('refuses %s at synth, naming the key', (_what, arn, problem) => {
    expect(() => synthesize({ releasePublisher: arn }, { bundle: false })).toThrow(/^context "releasePublisher": /);
    expect(() => synthesize({ releasePublisher: arn }, { bundle: false })).toThrow(problem);
  });

  it('accepts a role with a path and a user', () => {
    for (const arn of ['arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Publisher_0123456789abcdef', 'arn:aws-cn:iam::123456789012:user/ci@example']) {
      const s = synthesize({ releasePublisher: arn }, { bundle: false });
      try {
        expect(JSON.stringify(s.json)).toContain(JSON.stringify({ AWS: arn }));
      } finally {
        s.close();
      }
    }
  });
});
