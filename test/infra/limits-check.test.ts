/** The limit checks themselves, on small resolved templates: each names the key and the limit. */
import { describe, expect, it } from 'vitest';
import { awsLimitViolations } from '../../lib/limits/check';
import type { ResolvedTemplate } from '../../lib/limits/resolve-template';

const options = { environmentKeys: { BIG_VAR: 'thingNames' } };
const template = (resources: ResolvedTemplate['Resources'], names: Record<string, string> = {}): ResolvedTemplate => ({ Resources: resources, names });
const statement = (resource: string) => ({ Effect: 'Allow', Action: 'iot:UpdateThingShadow', Resource: resource });

describe('AWS limit checks', () => {
  it("adds up a role's inline policies against IAM's 10,240 characters", () => {
    const big = { Version: '2012-10-17', Statement: Array.from({ length: 60 }, (_, i) => statement(`arn:aws:iot:eu-west-1:123456789012:thing/${String(i)}${'t'.repeat(150)}`)) };
    const t = template(
      { Role: { Type: 'AWS::IAM::Role', Properties: {} }, Policy: { Type: 'AWS::IAM::Policy', Properties: { Roles: ['role-1'], PolicyDocument: big } } },
      { Role: 'role-1' },
    );
    const [v] = awsLimitViolations(t, options);
    expect(v).toMatchObject({ rule: 'iam-role-policy-size', key: 'thingNames', resource: 'Role' });
    expect(v?.message).toMatch(/^context "thingNames": the inline policies of role role-1 would be [\d,]+ characters, over IAM's 10,240/);
  });

  it("refuses a role alias that outlives its role's maximum session", () => {
    const t = template(
      {
        Role: { Type: 'AWS::IAM::Role', Properties: {} },
        Alias: { Type: 'AWS::IoT::RoleAlias', Properties: { RoleAlias: 'a', RoleArn: 'arn:aws:iam::123456789012:role/role-1', CredentialDurationSeconds: 7200 } },
      },
      { Role: 'role-1' },
    );
    expect(awsLimitViolations(t, options).map((v) => v.message)).toEqual([
      `context "credentialDurationSeconds": 7,200 s must be 900-43,200 and at most the role's MaxSessionDuration (3,600 s)`,
    ]);
  });

  it('names the context key behind the largest environment variable over 4 KB', () => {
    const t = template({ Fn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { SMALL: 'x', BIG_VAR: 'y'.repeat(4100) } } } } });
    expect(awsLimitViolations(t, options)).toMatchObject([{ rule: 'lambda-environment-size', key: 'thingNames' }]);
  });

  it('refuses a rule topic filter with more than 7 slashes, and a device policy over 2,048 characters', () => {
    const t = template({
      Rule: { Type: 'AWS::IoT::TopicRule', Properties: { TopicRulePayload: { Sql: "SELECT * FROM 'a/b/c/d/e/f/g/h/+'" } } },
      Policy: { Type: 'AWS::IoT::Policy', Properties: { PolicyDocument: { Statement: [{ Resource: 'x'.repeat(2100) }] } } },
    });
    expect(awsLimitViolations(t, options).map((v) => [v.rule, v.key])).toEqual([
      ['topic-slashes', 'buttonTopicFilter'],
      ['iot-policy-size', 'shadowName'],
    ]);
  });

  it('refuses a thing name IoT would not accept', () => {
    const t = template({ Thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'a b' } } });
    expect(awsLimitViolations(t, options)).toMatchObject([{ rule: 'iot-thing-name', key: 'thingNames' }]);
  });
});
