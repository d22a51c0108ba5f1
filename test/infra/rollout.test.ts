/**
 * The stack in roll-out mode (`-c rollout=...`): jobs target the fleet the shadow path reaches,
 * named once by `thingNames`/`thingGroups`; the upload-to-job function may create only our jobs,
 * for those things and groups only, and pass no role (devices download with their own
 * credentials: no presigned-URL role exists); the notifier reads only our jobs' executions; the
 * device policy adds the thing's own job topics (and nothing of another thing) and stays within IoT's 2,048 characters in the
 * largest relay configuration; overlapping prefixes and bad settings stop the synth naming the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyCharacters } from '../../core/iot-policy/policy';
import { ROLLOUT_ENV } from '../../core/jobs/config';
import { envName } from '../../core/settings/schema';
import { AWS_LIMITS } from '../../lib/limits/aws-limits';
import { awsLimitViolations } from '../../lib/limits/check';
import { ENVIRONMENT_CONTEXT_KEYS } from '../../lib/limits/plugin';
import { LONG_REGION, resolveTemplate } from '../../lib/limits/resolve-template';
import { render, renderList } from './render';
import { resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const ARN = 'arn:aws:iot:eu-west-1:123456789012';
const ROLLOUT = JSON.stringify({ keyPrefix: 'releases/', abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 20, minNumberOfExecutedThings: 5 }] } });
let s: Synthesis;

beforeAll(() => {
  s = synthesize({ rollout: ROLLOUT, keyPrefix: 'files/', thingGroups: 'lobby,hall', thingName: 'kiosk' }, { bundle: false });
});
afterAll(() => s?.close());

const actionsOf = (statements: Record<string, unknown>[]) => statements.flatMap((st) => renderList(st.Action));

describe('rollout (roll-out mode)', () => {
  it("lets upload-to-job create only our jobs, for the fleet's things and groups only, and pass no role", () => {
    const statements = roleStatements(s, resourceId(s, 'AWS::IAM::Role', 'RolloutPathCreateJobsRole'));
    const iot = statements.filter((st) => renderList(st.Action).some((a) => a.startsWith('iot:')));
    expect(iot.map((st) => [renderList(st.Action), renderList(st.Resource)])).toEqual([[['iot:CreateJob'], [`${ARN}:job/sp-*`, `${ARN}:thing/kiosk`, `${ARN}:thinggroup/lobby`, `${ARN}:thinggroup/hall`]]]);
    expect(actionsOf(statements).some((a) => a.startsWith('iam:'))).toBe(false);
    const everyAction = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::IAM::Policy').flatMap((r) => actionsOf((r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement));
    expect(everyAction).not.toContain('iam:PassRole');
  });

  it("targets the groups alone when they name the fleet and no thing was named (the default thing's execution would never end)", () => {
    const groupsOnly = synthesize({ rollout: ROLLOUT, keyPrefix: 'files/', thingGroups: 'lobby' }, { bundle: false });
    try {
      const fn = groupsOnly.json.Resources[resourceId(groupsOnly, 'AWS::Lambda::Function', 'RolloutPathCreateJobsFunction')]!;
      expect(render((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables[ROLLOUT_ENV.targets])).toBe(`${ARN}:thinggroup/lobby`);
    } finally {
      groupsOnly.close();
    }
    const thingOnly = synthesize({ rollout: ROLLOUT, keyPrefix: 'files/' }, { bundle: false });
    try {
      const fn = thingOnly.json.Resources[resourceId(thingOnly, 'AWS::Lambda::Function', 'RolloutPathCreateJobsFunction')]!;
      expect(render((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables[ROLLOUT_ENV.targets])).toBe(`${ARN}:thing/shadowplug-device`);
    } finally {
      thingOnly.close();
    }
  });

  it('configures the function with the fleet, the prefix and the settings as CreateJob takes them', () => {
    const fn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'RolloutPathCreateJobsFunction')]!;
    const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[ROLLOUT_ENV.keyPrefix]).toBe('releases/');
    // The same fleet as the shadow path's: its thing, and the groups the object function lists.
    expect(render(variables[ROLLOUT_ENV.targets])).toBe(`${ARN}:thing/kiosk,${ARN}:thinggroup/lobby,${ARN}:thinggroup/hall`);
    const objectFn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction')]!;
    expect((objectFn.Properties?.Environment as { Variables: Record<string, string> }).Variables[envName('thingGroups')]).toBe('lobby,hall');
    expect(JSON.parse(variables[ROLLOUT_ENV.settings] as string)).toMatchObject({ abortConfig: { criteriaList: [{ failureType: 'FAILED', thresholdPercentage: 20 }] }, timeoutConfig: { inProgressTimeoutInMinutes: 60 } });
  });

  it('lets the notifier read only our jobs and publish the roll-out end', () => {
    const statements = roleStatements(s, resourceId(s, 'AWS::IAM::Role', 'RolloutPathNotifyEndRole'));
    const iot = statements.filter((st) => renderList(st.Action).some((a) => a.startsWith('iot:')));
    expect(iot.map((st) => [renderList(st.Action), renderList(st.Resource)])).toEqual([
      [['iot:ListJobExecutionsForJob'], [`${ARN}:job/sp-*`]],
      [['iot:DescribeJobExecution'], [`${ARN}:thing/*`]],
    ]);
    expect(actionsOf(statements)).toContain('sns:Publish');
    const rule = s.json.Resources[resourceId(s, 'AWS::IoT::TopicRule', 'RolloutPathJobEnded')]!;
    expect((rule.Properties?.TopicRulePayload as { Sql: string }).Sql).toBe("SELECT * FROM '$aws/events/job/+/+' WHERE topic(5) = 'completed' OR topic(5) = 'canceled'");
  });

  it("adds the thing's own job topics to the device policy, and the releases to what devices may read", () => {
    const policy = s.json.Resources[resourceId(s, 'AWS::IoT::Policy', 'DevicesDevicePolicy')]!;
    const resources = (policy.Properties?.PolicyDocument as { Statement: { Resource: unknown }[] }).Statement.flatMap((st) => renderList(st.Resource));
    // Publish its job requests; subscribe and receive: one wildcard over its own thing's topics.
    expect(resources).toContain(`${ARN}:topic/$aws/things/\${iot:Connection.Thing.ThingName}/jobs/*`);
    expect(resources).toContain(`${ARN}:topicfilter/$aws/things/\${iot:Connection.Thing.ThingName}/*`);
    expect(resources).toContain(`${ARN}:topic/$aws/things/\${iot:Connection.Thing.ThingName}/*`);
    for (const r of resources.filter((x) => x.includes(':topic'))) expect(r).toContain('$aws/things/${iot:Connection.Thing.ThingName}/');
    const device = roleStatements(s, resourceId(s, 'AWS::IAM::Role', 'DevicesDeviceRole'));
    expect(device.flatMap((st) => renderList(st.Resource)).some((r) => r.endsWith('/releases/*'))).toBe(true);
    expect(JSON.stringify(s.json.Outputs)).toContain('--jobs');
    expect(s.json.Outputs).toHaveProperty('RolloutEventsCommand');
  });

  it('stays within AWS limits (device policy, job document) in the largest relay configuration', () => {
    const things = Array.from({ length: 10 }, (_, i) => `hub-${i}`);
    const plugs = things.map((hub, i) => `p${i}${'x'.repeat(50)}@${hub}=192.168.1.${20 + i}`);
    const big = synthesize({ rollout: ROLLOUT, keyPrefix: 'files/', plugMode: 'relay', shadowName: 'n'.repeat(64), thingNames: things.join(','), plugHost: '192.168.1.20', plugs: plugs.join(',') }, { bundle: false });
    try {
      const t = resolveTemplate(big.json, LONG_REGION, 'Shadowplug');
      expect(awsLimitViolations(t, { environmentKeys: ENVIRONMENT_CONTEXT_KEYS })).toEqual([]);
      const [policy] = Object.values(t.Resources).filter((r) => r.Type === 'AWS::IoT::Policy');
      expect(policyCharacters(policy!.Properties?.PolicyDocument)).toBeLessThanOrEqual(AWS_LIMITS.iotPolicyCharacters);
    } finally {
      big.close();
    }
  });

  it.each([
    [{ rollout: ROLLOUT }, /context "rollout": keyPrefix "releases\/" overlaps keyPrefix ""/],
    [{ rollout: ROLLOUT, keyPrefix: 'releases/beta/' }, /overlaps/],
    [{ rollout: '{"keyPrefix":"releases/","thingGroups":["a"]}', keyPrefix: 'files/' }, /context "rollout": thingGroups: the fleet is named once, by the thingGroups \(and thingNames\) context keys/],
    [{ rollout: '{"keyPrefix":"releases/","jobExecutionsRolloutConfig":{"maximumPerMinute":0}}', keyPrefix: 'files/' }, /context "rollout": jobExecutionsRolloutConfig.maximumPerMinute: expected an integer 1-1000/],
  ])('refuses %j', (context, message) => {
    expect(() => synthesize(context, { bundle: false })).toThrow(message);
  });
});
