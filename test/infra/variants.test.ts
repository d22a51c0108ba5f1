/**
 * The stack under other context: named shadow, per-thing object scope, key prefix, several
 * things with certificates — and context that must not synthesise. Bundling is skipped here: these
 * tests look at resources, not code.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUTTON_ENV, parseButtonConfig, worstCaseClickMs } from '../../core/button/config';
import { ENV as OBJECT_ENV, parseObjectConfig } from '../../core/s3/config';
import { routeKey } from '../../core/fleet/targets';
import { createApp } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/constructs/bundled-function';
import { ContextError } from '../../lib/errors';
import { render, renderList } from './render';
import { CDK_JSON_CONTEXT, resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const run = promisify(execFile);
const CERT_A = `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}`;
const CERT_B = `arn:aws:iot:eu-west-1:123456789012:cert/${'b'.repeat(64)}`;

describe('a fleet of two things, a named shadow, a key prefix, per-thing objects and certificates', () => {
  let s: Synthesis;
  beforeAll(() => {
    s = synthesize(
      {
        plugMode: 'direct',
        thingNames: 'kitchen,hall',
        shadowName: 'files',
        shadowProperty: 'firmware',
        keyPrefix: 'uploads/',
        scopeObjectsPerThing: 'true',
        credentialDurationSeconds: '900',
        certificateArn: JSON.stringify({ kitchen: CERT_A, hall: CERT_B }),
        buttonTopicFilter: 'home/buttons/+',
        buttonTargets: { G030: ['strip.lan#0', 'strip.lan#1'] },
        maxClickAgeSeconds: '300',
      },
      { bundle: false },
    );
  });
  afterAll(() => s?.close());

  it('creates both things and points the device policy at the named shadow only', () => {
    s.template.resourceCountIs('AWS::IoT::Thing', 2);
    const policy = s.json.Resources[resourceId(s, 'AWS::IoT::Policy', 'DevicesDevicePolicy')]?.Properties as {
      PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
    };
    const topics = policy.PolicyDocument.Statement.filter((st) => renderList(st.Action)[0] !== 'iot:Connect' && renderList(st.Action)[0] !== 'iot:AssumeRoleWithCertificate').flatMap((st) => renderList(st.Resource));
    expect(topics.length).toBe(2 + 1 + 1);
    for (const topic of topics) expect(topic).toContain('$aws/things/${iot:Connection.Thing.ThingName}/shadow/name/files/');
  });

  it("lets the S3 function write exactly those things' named shadows", () => {
    const role = resourceId(s, 'AWS::IAM::Role', 'FilePathHandlerRole');
    const shadowStatement = roleStatements(s, role).find((st) => renderList(st.Action).includes('iot:UpdateThingShadow'));
    expect(renderList(shadowStatement?.Resource)).toEqual([
      'arn:aws:iot:eu-west-1:123456789012:thing/kitchen/files',
      'arn:aws:iot:eu-west-1:123456789012:thing/hall/files',
    ]);
    const read = roleStatements(s, role).find((st) => renderList(st.Action).includes('s3:GetObject'));
    expect(renderList(read?.Resource)).toEqual([`<${resourceId(s, 'AWS::S3::Bucket', 'FilePathFiles')}.Arn>/uploads/*`]);
  });

  it('routes only things/<thing>/ under the prefix (scopeObjectsPerThing) and names the property and shadow in the function environment', () => {
    const fn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction')]?.Properties as {
      Environment: { Variables: Record<string, string> };
    };
    expect(fn.Environment.Variables).toMatchObject({
      // Per-thing objects: a key outside things/<thing>/ goes to no device (none could read it).
      [OBJECT_ENV.targetThings]: '',
      [OBJECT_ENV.thingPrefix]: 'uploads/things/',
      [OBJECT_ENV.shadowProperty]: 'firmware',
      [OBJECT_ENV.shadowName]: 'files',
    });
    // What the function then does with the environment the stack gave it: only keys a device may read.
    const config = parseObjectConfig({ ...fn.Environment.Variables, [OBJECT_ENV.iotDataEndpoint]: 'https://example-ats.iot.eu-west-1.amazonaws.com' });
    expect(routeKey('uploads/firmware.bin', config)).toMatchObject({ type: 'none', reason: 'no-default-target' });
    expect(routeKey('uploads/things/hall/firmware.bin', config)).toEqual({ type: 'things', things: ['hall'], perThing: true });
  });

  it('filters bucket notifications by the key prefix', () => {
    const filter = { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } };
    s.template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], Filter: filter, LambdaFunctionArn: { 'Fn::GetAtt': [resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction'), 'Arn'] } },
          { Events: ['s3:ObjectRemoved:*'], Filter: filter, LambdaFunctionArn: { 'Fn::GetAtt': [resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction'), 'Arn'] } },
        ],
      },
    });
  });

  it('lets each device download only under its own things/<name>/ prefix, for 15 minutes at a time', () => {
    const role = resourceId(s, 'AWS::IAM::Role', 'DevicesDeviceRole');
    expect(roleStatements(s, role).map((st) => renderList(st.Resource))).toEqual([
      [`<${resourceId(s, 'AWS::S3::Bucket', 'FilePathFiles')}.Arn>/uploads/things/\${credentials-iot:ThingName}/*`],
    ]);
    s.template.hasResourceProperties('AWS::IoT::RoleAlias', { CredentialDurationSeconds: 900 });
  });

  it('attaches the device policy and each thing to its own certificate', () => {
    const policyId = resourceId(s, 'AWS::IoT::Policy', 'DevicesDevicePolicy');
    for (const [thing, cert] of [['kitchen', CERT_A], ['hall', CERT_B]] as const) {
      s.template.hasResourceProperties('AWS::IoT::PolicyPrincipalAttachment', { PolicyName: { Ref: policyId }, Principal: cert });
      s.template.hasResourceProperties('AWS::IoT::ThingPrincipalAttachment', {
        ThingName: { Ref: resourceId(s, 'AWS::IoT::Thing', `DevicesThing${thing}`) },
        Principal: cert,
      });
    }
    s.template.resourceCountIs('AWS::IoT::ThingPrincipalAttachment', 2);
  });

  it('gives the button function time to switch two outlets of one strip one after the other', () => {
    const fn = s.json.Resources[resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction')]?.Properties as {
      Timeout: number;
      Environment: { Variables: Record<string, string> };
    };
    const { [BUTTON_ENV.snsTopicArn]: _topic, ...env } = fn.Environment.Variables;
    const onePlug = worstCaseClickMs(parseButtonConfig({ ...env, [BUTTON_ENV.serialTargets]: '{"G030":"strip.lan#0"}' }));
    // Outlets of one strip are switched one after the other: the timeout grows with them.
    expect(fn.Timeout).toBe(Math.ceil(worstCaseClickMs(parseButtonConfig(env)) / 1000));
    expect(fn.Timeout * 1000).toBeGreaterThan(onePlug);
  });

  it('lets a click wait in the queue as long as the button would still act on it', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction') },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
  });

  it('listens on the configured topic filter', () => {
    s.template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: { Sql: "SELECT *, newuuid() AS requestId, timestamp() AS receivedAt FROM 'home/buttons/+'" },
    });
  });

  it('prints one agent command per thing, with the named shadow and property', () => {
    const commands = ['AgentCommand1', 'AgentCommand2'].map((k) => render((s.json.Outputs[k] as { Value: unknown }).Value));
    expect(commands[0]).toContain('--thing-name kitchen ');
    expect(commands[1]).toContain('--thing-name hall ');
    for (const c of commands) expect(c).toContain('--shadow-property firmware --shadow-name files ');
  });

  it('still has no unacknowledged cdk-nag finding', () => {
    for (const report of s.validationReport.pluginReports) expect(report.violations).toEqual([]);
  });
});

describe('-c tracing=true', () => {
  it('turns on active X-Ray tracing for both functions, with no unacknowledged cdk-nag finding', () => {
    const t = synthesize({ tracing: 'true' }, { bundle: false });
    try {
      for (const prefix of ['ButtonPathHandlerFunction', 'FilePathHandlerFunction']) {
        expect(t.json.Resources[resourceId(t, 'AWS::Lambda::Function', prefix)]?.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      }
      for (const report of t.validationReport.pluginReports) expect(report.violations).toEqual([]);
    } finally {
      t.close();
    }
  });
});

describe('bad context fails the synth, naming the key', () => {
  function synthError(overrides: Record<string, unknown>): ContextError {
    const context: Record<string, unknown> = { ...CDK_JSON_CONTEXT, ...overrides, 'aws:cdk:bundling-stacks': [] };
    const outdir = mkdtempSync(join(tmpdir(), 'shadowplug-bad-context-'));
    try {
      createApp({ context, outdir });
    } catch (err) {
      if (err instanceof ContextError) return err;
      throw err;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    throw new Error('the app was built');
  }

  it.each([
    ['a malformed plugHost', { plugHost: '192.168.1.300' }, 'plugHost'],
    ['an unknown click action', { clickActions: '{"SINGLE":"dim"}' }, 'clickActions'],
    // Checked by the button function's own builder, reported under the key the user typed.
    ['a bad port in a button target', { buttonTargets: '{"G030":"plug.lan:99999"}' }, 'buttonTargets'],
    ['a bad outlet in a button target', { buttonTargets: '{"G030":"plug.lan#a-b"}' }, 'buttonTargets'],
    ['a bad serial', { buttonTargets: '{"bad serial!":"plug.lan"}' }, 'buttonTargets'],
  ])('%s', (_name, overrides, key) => {
    const err = synthError(overrides);
    expect(err.key).toBe(key);
    expect(err.message).toContain(`context "${key}"`);
  });

  // Values the agent or the device would refuse after a deploy: the same rules refuse them here.
  it.each([
    ['the agent\'s own property as shadowProperty', { shadowProperty: 'agent' }, 'shadowProperty', /"agent" is where the agent reports itself/],
    ['a key prefix devices refuse', { keyPrefix: '../' }, 'keyPrefix', /devices refuse every key under it \(it contains a '\.\.' segment\)/],
    ['a file shadow that is a plug\'s shadow', { shadowName: 'plug-lamp', plugs: 'lamp@shadowplug-device=192.0.2.10' }, 'shadowName', /names the plugs' shadows/],
    ['a policy variable in the key prefix', { keyPrefix: '${aws:username}/' }, 'keyPrefix', /policy variables/],
    ['an empty thing name', { thingName: '' }, 'thingName', /"" is not a thing name/],
  ])('%s', (_name, overrides, key, problem) => {
    const err = synthError(overrides);
    expect(err.key).toBe(key);
    expect(err.message).toContain(`context "${key}"`);
    expect(err.message).toMatch(problem);
  });

  it('stops bin/app.ts with the key in one line and exit status 1', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'shadowplug-app-'));
    try {
      // The CDK CLI hands -c values to the app the same way: CDK_CONTEXT_JSON.
      const context = { ...CDK_JSON_CONTEXT, plugHost: 'http://192.168.1.20' };
      const failure = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bin/app.ts')], {
        env: { PATH: process.env.PATH, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
      }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim()).toBe('shadowplug: context "plugHost": "http://192.168.1.20" is not a host name or IPv4 address (no scheme, no port, no path)');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
