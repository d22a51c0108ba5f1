/**
 * The template, resolved for a concrete region and account, against AWS's documented limits
 * (each limit's page is in lib/limits/aws-limits.ts) — for the default context and every deploy
 * command line the docs show, synthesized exactly as written. Bundling is skipped: these tests
 * look at resources, not code.
 */
import { describe, expect, it } from 'vitest';
import { policyCharacters } from '../../core/iot-policy/policy';
import { AWS_LIMITS } from '../../lib/limits/aws-limits';
import { awsLimitViolations } from '../../lib/limits/check';
import { ENVIRONMENT_CONTEXT_KEYS } from '../../lib/limits/plugin';
import { LONG_REGION, resolveTemplate, type ResolvedTemplate } from '../../lib/limits/resolve-template';
import { DOCUMENTED_DEPLOY_COMMANDS as COMMANDS } from './documented-commands';
import { synthesize } from './synth';

function resolved(context: Record<string, unknown>): ResolvedTemplate {
  const s = synthesize(context, { bundle: false });
  try {
    return resolveTemplate(s.json, LONG_REGION, 'Shadowplug');
  } finally {
    s.close();
  }
}

const ofType = (t: ResolvedTemplate, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

/** The limits asserted one by one, so a failure says which and by how much. */
function expectWithinLimits(t: ResolvedTemplate): void {
  expect(awsLimitViolations(t, { environmentKeys: ENVIRONMENT_CONTEXT_KEYS })).toEqual([]);
  for (const [, policy] of ofType(t, 'AWS::IoT::Policy')) {
    expect(policyCharacters(policy.Properties?.PolicyDocument)).toBeLessThanOrEqual(AWS_LIMITS.iotPolicyCharacters);
  }
  for (const [, fn] of ofType(t, 'AWS::Lambda::Function')) {
    const variables = (fn.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables ?? {};
    expect(Buffer.byteLength(JSON.stringify(variables))).toBeLessThanOrEqual(AWS_LIMITS.lambdaEnvironmentBytes);
  }
  for (const [, alias] of ofType(t, 'AWS::IoT::RoleAlias')) {
    const [roleId] = ofType(t, 'AWS::IAM::Role').find(([id]) => String(alias.Properties?.RoleArn).endsWith(`:role/${t.names[id]}`)) ?? [];
    const roleMax = Number(t.Resources[roleId as string]?.Properties?.MaxSessionDuration ?? 3600);
    expect(Number(alias.Properties?.CredentialDurationSeconds)).toBeLessThanOrEqual(roleMax);
    expect(String(alias.Properties?.RoleAlias)).toMatch(AWS_LIMITS.roleAliasName);
  }
  for (const [, thing] of ofType(t, 'AWS::IoT::Thing')) expect(String(thing.Properties?.ThingName)).toMatch(AWS_LIMITS.thingName);
  for (const [id] of ofType(t, 'AWS::IoT::TopicRule')) expect(t.names[id]).toMatch(AWS_LIMITS.topicRuleName);
}

describe('every deploy command line in the docs', () => {
  it('are found (README and docs/deploy.md)', () => {
    expect(COMMANDS.map((c) => c.file)).toEqual(['README.md', ...Array<string>(9).fill('docs/deploy.md')]);
  });

  it.each(COMMANDS.map((c) => [`${c.file}: ${c.line}`, c.context] as const))('synthesizes as written, within AWS limits: %s', (_line, context) => {
    expectWithinLimits(resolved(context));
  });
});

describe('the templates AWS would refuse before', () => {
  it('keeps the device policy within 2,048 characters for a 64-character shadow name', () => {
    const t = resolved({ shadowName: 'n'.repeat(64), plugMode: 'direct' });
    const policies = ofType(t, 'AWS::IoT::Policy').map(([, p]) => policyCharacters(p.Properties?.PolicyDocument));
    expect(policies).toEqual([expect.any(Number)]);
    expect(policies[0]).toBeLessThanOrEqual(1500);
    expectWithinLimits(t);
  });

  it('keeps the device policy within 2,048 characters in relay mode with 10 plugs on 10 hubs and a 64-character shadow name (one plug-* wildcard)', () => {
    const things = Array.from({ length: 10 }, (_, i) => `hub-${i}`);
    const plugs = things.map((hub, i) => `p${i}${'x'.repeat(50)}@${hub}=192.168.1.${20 + i}`);
    const t = resolved({ plugMode: 'relay', shadowName: 'n'.repeat(64), thingNames: things.join(','), plugHost: '192.168.1.20', plugs: plugs.join(',') });
    const policies = ofType(t, 'AWS::IoT::Policy').map(([, p]) => policyCharacters(p.Properties?.PolicyDocument));
    expect(policies).toHaveLength(1);
    expect(policies[0]).toBeLessThanOrEqual(AWS_LIMITS.iotPolicyCharacters);
    expectWithinLimits(t);
  });

  it("raises the device role's maximum session to the credential lifetime", () => {
    const t = resolved({ credentialDurationSeconds: '43200' });
    const role = ofType(t, 'AWS::IAM::Role').find(([id]) => id.startsWith('DevicesDeviceRole'));
    expect(role?.[1].Properties?.MaxSessionDuration).toBe(43_200);
    expectWithinLimits(t);
  });

  it('keeps the default maximum session (one hour) for shorter credentials', () => {
    const t = resolved({ credentialDurationSeconds: '900' });
    const role = ofType(t, 'AWS::IAM::Role').find(([id]) => id.startsWith('DevicesDeviceRole'));
    expect(role?.[1].Properties?.MaxSessionDuration).toBe(3600);
  });

  it('deploys a fleet of 50 things with 40-character names', () => {
    const names = Array.from({ length: 50 }, (_, i) => `thing-${String(i).padStart(2, '0')}-${'x'.repeat(31)}`);
    expectWithinLimits(resolved({ thingNames: names.join(','), shadowName: 'files' }));
  });
});

describe('a template AWS would refuse stops the synth, naming the key and the limit', () => {
  it('refuses 50 thing names of 128 characters (the S3 function environment over 4 KB)', () => {
    const names = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, '0')}${'t'.repeat(126)}`);
    expect(() => synthesize({ thingNames: names.join(',') }, { bundle: false })).toThrow(/context "thingNames": the function's environment would be [\d,]+ bytes .* over Lambda's 4,096 bytes/);
  });
});
