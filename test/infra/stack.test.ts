import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUTTON_ENV, buttonFunctionEnvironment, parseButtonConfig, worstCaseClickMs } from '../../core/button/config';
import { ENV as OBJECT_ENV, objectFunctionEnvironment, parseObjectConfig } from '../../core/s3/config';
import { AGENT_FLAGS, resolveAgentOptions, type OptionName } from '../../agent/options';
import { CLASSIC_SHADOW, devicePolicy } from '../../core/iot-policy/device-policy';
import { render, renderList } from './render';
import { resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const run = promisify(execFile);
const THING = '${iot:Connection.Thing.ThingName}';
const SERIAL = 'G030JF0512345678';

/** The default context (cdk.json) plus what a typical owner passes with -c. */
// The seed's direct path; relay mode (the default) has its own file, relay.test.ts.
const OVERRIDES = {
  plugMode: 'direct',
  buttonTargets: JSON.stringify({ [SERIAL]: ['192.168.1.21:9999#1', 'plug.lan'] }),
  clickActions: 'SINGLE=toggle,DOUBLE=on,LONG=off',
  notifyEmail: 'owner@example.com',
  maxClickAgeSeconds: '20',
};

let s: Synthesis;
let ids: {
  topic: string;
  failedEvents: string;
  topicKey: string;
  buttonFn: string;
  buttonRole: string;
  rule: string;
  ruleErrors: string;
  ruleErrorRole: string;
  files: string;
  accessLogs: string;
  objectFn: string;
  objectRole: string;
  policy: string;
  roleAlias: string;
  deviceRole: string;
  endpointLookup: string;
};

beforeAll(() => {
  s = synthesize(OVERRIDES);
  ids = {
    topic: resourceId(s, 'AWS::SNS::Topic', 'NotificationsOutcomes'),
    failedEvents: resourceId(s, 'AWS::SQS::Queue', 'FilePathFailedEventsQueue'),
    topicKey: resourceId(s, 'AWS::KMS::Key', 'NotificationsTopicKey'),
    buttonFn: resourceId(s, 'AWS::Lambda::Function', 'ButtonPathHandlerFunction'),
    buttonRole: resourceId(s, 'AWS::IAM::Role', 'ButtonPathHandlerRole'),
    rule: resourceId(s, 'AWS::IoT::TopicRule', 'ButtonPathRule'),
    ruleErrors: resourceId(s, 'AWS::Logs::LogGroup', 'ButtonPathRuleErrors'),
    ruleErrorRole: resourceId(s, 'AWS::IAM::Role', 'ButtonPathRuleErrorRole'),
    files: resourceId(s, 'AWS::S3::Bucket', 'FilePathFiles'),
    accessLogs: resourceId(s, 'AWS::S3::Bucket', 'FilePathAccessLogs'),
    objectFn: resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction'),
    objectRole: resourceId(s, 'AWS::IAM::Role', 'FilePathHandlerRole'),
    policy: resourceId(s, 'AWS::IoT::Policy', 'DevicesDevicePolicy'),
    roleAlias: resourceId(s, 'AWS::IoT::RoleAlias', 'DevicesRoleAlias'),
    deviceRole: resourceId(s, 'AWS::IAM::Role', 'DevicesDeviceRole'),
    endpointLookup: resourceId(s, 'Custom::AWS', 'IotDataEndpointLookup'),
  };
});
afterAll(() => s?.close());

function props(id: string): Record<string, unknown> {
  return s.json.Resources[id]?.Properties ?? {};
}

describe('the button path', () => {
  it('routes iotbutton/+ through a 2016-03-23 rule that adds a request id and a receipt time', () => {
    s.template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        AwsIotSqlVersion: '2016-03-23',
        Sql: "SELECT *, newuuid() AS requestId, timestamp() AS receivedAt FROM 'iotbutton/+'",
        RuleDisabled: false,
        Actions: [{ Lambda: { FunctionArn: { 'Fn::GetAtt': [ids.buttonFn, 'Arn'] } } }],
      },
    });
  });

  it('lets only that rule, in this account, invoke the function', () => {
    const permissions = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Permission' && JSON.stringify(r.Properties?.FunctionName).includes(ids.buttonFn),
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]?.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [ids.buttonFn, 'Arn'] },
      Principal: 'iot.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ids.rule, 'Arn'] },
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it('logs the actions the rule could not run, with a role that can do only that', () => {
    s.template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: {
        ErrorAction: {
          CloudwatchLogs: { LogGroupName: { Ref: ids.ruleErrors }, RoleArn: { 'Fn::GetAtt': [ids.ruleErrorRole, 'Arn'] } },
        },
      },
    });
    expect(props(ids.ruleErrorRole).AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'iot.amazonaws.com' } }],
    });
    const statements = roleStatements(s, ids.ruleErrorRole);
    expect(statements).toHaveLength(1);
    expect(renderList(statements[0]?.Action).sort()).toEqual(['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents']);
    // The group itself (DescribeLogStreams) and its streams (`…:*`, the Arn attribute).
    expect(renderList(statements[0]?.Resource)).toEqual([
      `arn:aws:logs:eu-west-1:123456789012:log-group:<${ids.ruleErrors}>`,
      `<${ids.ruleErrors}.Arn>`,
    ]);
  });

  it('never retries a click: 0 retries, a one-minute event age, failures to the outcomes topic', () => {
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.buttonFn },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
      DestinationConfig: { OnFailure: { Destination: { Ref: ids.topic } } },
    });
  });

  it("runs on Node.js 22, arm64, with a timeout sized from the plug client's own timeouts", () => {
    const variables = (props(ids.buttonFn).Environment as { Variables: Record<string, string> }).Variables;
    const { [BUTTON_ENV.snsTopicArn]: _topic, ...config } = variables;
    // The button's own worst case for these targets (18 s for one plug with its default timeouts).
    const worstSeconds = Math.ceil(worstCaseClickMs(parseButtonConfig(config)) / 1000);
    expect(worstSeconds).toBeGreaterThanOrEqual(10);
    expect(props(ids.buttonFn)).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: worstSeconds,
      MemorySize: 256,
    });
  });

  it("hands the function the configuration the button's own builder makes from the context", () => {
    const expected = buttonFunctionEnvironment({
      defaultTargets: '192.0.2.10:9999',
      serialTargets: { [SERIAL]: ['192.168.1.21:9999#1', 'plug.lan'] },
      clickActions: { SINGLE: 'toggle', DOUBLE: 'on', LONG: 'off' },
      maxClickAgeSeconds: 20,
      snsTopicArn: 'TOPIC',
      plugMode: 'direct',
    });
    const variables = (props(ids.buttonFn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toEqual({ ...expected, [BUTTON_ENV.snsTopicArn]: { Ref: ids.topic } });
    // …and the function will accept it at cold start.
    const config = parseButtonConfig({ ...(variables as Record<string, string>), [BUTTON_ENV.snsTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:t' });
    expect(config.serialTargets[SERIAL]).toEqual([
      { host: '192.168.1.21', port: 9999, child: 1 },
      { host: 'plug.lan', port: 9999 },
    ]);
    expect(config.clickActions).toEqual({ SINGLE: 'toggle', DOUBLE: 'on', LONG: 'off' });
  });

  it('may publish outcomes to the topic and write its own logs, nothing else', () => {
    const statements = roleStatements(s, ids.buttonRole);
    const byAction = statements.map((st) => [renderList(st.Action).sort().join(','), renderList(st.Resource)]);
    expect(byAction).toEqual(
      expect.arrayContaining([
        ['logs:CreateLogStream,logs:PutLogEvents', [expect.stringMatching(/^<ButtonPathHandlerLogs.*\.Arn>$/)]],
        ['sns:Publish', [`<${ids.topic}>`]],
        ['kms:Decrypt,kms:GenerateDataKey*', [`<${ids.topicKey}.Arn>`]],
      ]),
    );
    expect(statements).toHaveLength(3);
  });
});

describe('the outcomes topic', () => {
  it('is encrypted and refuses plain HTTP', () => {
    s.template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [ids.topicKey, 'Arn'] },
    });
    // Its own key, so CloudWatch alarms can publish (the AWS-managed alias/aws/sns key cannot allow them).
    s.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
          Match.objectLike({ Effect: 'Deny', Action: 'kms:CreateGrant', Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } } }),
        ]),
      },
    });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('mails the owner when notifyEmail is set', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'owner@example.com',
      TopicArn: { Ref: ids.topic },
    });
  });
});

describe('the file path', () => {
  it('keeps the bucket private, TLS-only, encrypted, versioned, logged, and trims old versions', () => {
    expect(props(ids.files)).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: ids.accessLogs }, LogFilePrefix: 'files/' },
      LifecycleConfiguration: {
        Rules: [
          expect.objectContaining({
            Status: 'Enabled',
            NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 3 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
          }),
        ],
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.files },
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('delivers access logs by bucket policy, ACLs disabled, only from the files bucket', () => {
    expect(props(ids.accessLogs)).toMatchObject({
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
    });
    expect(props(ids.accessLogs).AccessControl).toBeUndefined();
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: ids.accessLogs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: 's3:PutObject',
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [ids.files, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ids.accessLogs, 'Arn'] }, '/files/*']] },
          },
        ]),
      },
    });
  });

  it('sends created and removed objects to the S3 function', () => {
    s.template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: ids.files },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], LambdaFunctionArn: { 'Fn::GetAtt': [ids.objectFn, 'Arn'] } },
          { Events: ['s3:ObjectRemoved:*'], LambdaFunctionArn: { 'Fn::GetAtt': [ids.objectFn, 'Arn'] } },
        ],
      },
    });
  });

  it('lets the S3 function read objects (and versions) and only the target things’ shadows', () => {
    const statements = roleStatements(s, ids.objectRole).map((st) => ({
      actions: renderList(st.Action).sort(),
      resources: renderList(st.Resource),
    }));
    expect(statements).toEqual(
      expect.arrayContaining([
        { actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [`<${ids.files}.Arn>/*`] },
        { actions: ['s3:ListBucket'], resources: [`<${ids.files}.Arn>`] },
        {
          actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
          resources: ['arn:aws:iot:eu-west-1:123456789012:thing/shadowplug-device'],
        },
        { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [`<${ids.failedEvents}.Arn>`] },
        {
          actions: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
          resources: [`<${resourceId(s, 'AWS::SQS::Queue', 'FilePathReplay')}.Arn>`],
        },
      ]),
    );
    // The sixth is its own log group; nothing more (no topic: failed events go to their queue).
    expect(statements).toHaveLength(6);
  });

  it('hashes with a full vCPU, keeps Lambda’s retries, keeps failed events in a replayable queue with an alarm', () => {
    expect(props(ids.objectFn)).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], MemorySize: 1769, Timeout: 300 });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ids.objectFn },
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [ids.failedEvents, 'Arn'] } } },
    });
    expect(props(ids.failedEvents)).toMatchObject({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.failedEvents, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: ids.topic }],
    });
  });

  it("hands the function the configuration the S3 function's own builder makes from the context", () => {
    const sample = 'https://abc123-ats.iot.eu-west-1.amazonaws.com';
    const expected = objectFunctionEnvironment({ targetThings: ['shadowplug-device'], thingPrefix: 'things/', shadowProperty: 's3', iotDataEndpoint: sample });
    const variables = (props(ids.objectFn).Environment as { Variables: Record<string, unknown> }).Variables;
    // The account's data endpoint, looked up at deploy time.
    expect(render(variables[OBJECT_ENV.iotDataEndpoint])).toBe(`https://<${ids.endpointLookup}.endpointAddress>`);
    const withSample = { ...(variables as Record<string, string>), [OBJECT_ENV.iotDataEndpoint]: sample };
    expect(withSample).toEqual(expected);
    expect(parseObjectConfig(withSample).targetThings).toEqual(['shadowplug-device']);
  });

  it('looks up the IoT data endpoint at deploy time, with a role that can do only that (and log)', () => {
    const lookup = props(ids.endpointLookup);
    expect(JSON.parse(lookup.Create as string)).toEqual({
      service: '@aws-sdk/client-iot',
      action: 'DescribeEndpoint',
      parameters: { endpointType: 'iot:Data-ATS' },
      physicalResourceId: { id: 'iot-data-ats-endpoint' },
    });
    expect(lookup.Update).toBe(lookup.Create);
    const role = resourceId(s, 'AWS::IAM::Role', 'IotDataEndpointRole');
    const statements = roleStatements(s, role).map((st) => [renderList(st.Action).sort().join(','), renderList(st.Resource)]);
    expect(statements).toEqual(
      expect.arrayContaining([
        ['iot:DescribeEndpoint', ['*']],
        ['logs:CreateLogStream,logs:PutLogEvents', [expect.stringMatching(/^<IotDataEndpointLogs.*\.Arn>$/)]],
      ]),
    );
    expect(statements).toHaveLength(2);
  });
});

describe('the device side', () => {
  it('creates the thing', () => {
    s.template.hasResourceProperties('AWS::IoT::Thing', { ThingName: 'shadowplug-device' });
  });

  it('lets a device connect only as itself and ask and hear only its own shadow (no delete)', () => {
    const statements = (props(ids.policy).PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const shadow = `$aws/things/${THING}/shadow`;
    const arn = (type: string, name: string) => `arn:aws:iot:eu-west-1:123456789012:${type}/${name}`;
    expect(statements.map((st) => ({ Action: renderList(st.Action), Resource: renderList(st.Resource), Condition: st.Condition }))).toEqual([
      { Action: ['iot:Connect'], Resource: [arn('client', THING)], Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } } },
      { Action: ['iot:Publish'], Resource: ['get', 'update'].map((t) => arn('topic', `${shadow}/${t}`)), Condition: undefined },
      { Action: ['iot:Subscribe'], Resource: [arn('topicfilter', `${shadow}/*`)], Condition: undefined },
      { Action: ['iot:Receive'], Resource: [arn('topic', `${shadow}/*`)], Condition: undefined },
      { Action: ['iot:AssumeRoleWithCertificate'], Resource: [`<${ids.roleAlias}.RoleAliasArn>`], Condition: undefined },
    ]);
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      for (const action of renderList(st.Action)) expect(action).not.toContain('*');
      // A wildcard only below the connecting thing's own shadow.
      for (const resource of renderList(st.Resource)) if (resource.includes('*')) expect(resource.endsWith(`${shadow}/*`)).toBe(true);
    }
  });

  it('is the policy the sandbox broker enforces (one model)', () => {
    const model = devicePolicy({ shadows: [CLASSIC_SHADOW] });
    const deployed = (props(ids.policy).PolicyDocument as { Statement: Record<string, unknown>[] }).Statement.slice(0, model.length);
    expect(deployed.map((st) => renderList(st.Resource))).toEqual(model.map((st) => st.resources.map((r) => `arn:aws:iot:eu-west-1:123456789012:${r.type}/${r.name}`)));
  });

  it('gives devices a role alias whose role only the IoT credentials provider can assume', () => {
    s.template.hasResourceProperties('AWS::IoT::RoleAlias', {
      RoleAlias: 'Shadowplug-device',
      RoleArn: { 'Fn::GetAtt': [ids.deviceRole, 'Arn'] },
      CredentialDurationSeconds: 3600,
    });
    expect(props(ids.deviceRole).AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'credentials.iot.amazonaws.com' } }],
    });
    const statements = roleStatements(s, ids.deviceRole);
    expect(statements.map((st) => [renderList(st.Action).sort(), renderList(st.Resource)])).toEqual([
      [['s3:GetObject', 's3:GetObjectVersion'], [`<${ids.files}.Arn>/*`]],
    ]);
  });
});

describe('the outputs', () => {
  it('name the bucket, things, role alias, policy and topic', () => {
    expect(s.json.Outputs).toMatchObject({
      BucketName: { Value: { Ref: ids.files } },
      ThingNames: { Value: 'shadowplug-device' },
      RoleAlias: { Value: { Ref: ids.roleAlias } },
      DevicePolicyName: { Value: { Ref: ids.policy } },
      TopicArn: { Value: { Ref: ids.topic } },
      IotDataEndpointAddress: { Value: { 'Fn::GetAtt': [ids.endpointLookup, 'endpointAddress'] } },
    });
  });

  it("spell out the device's agent command line with its endpoint look-ups", () => {
    const command = render((s.json.Outputs.AgentCommand1 as { Value: unknown }).Value);
    expect(command).toBe(
      [
        'node /usr/local/lib/shadowplug/shadowplug-agent.mjs',
        '--endpoint "$(aws iot describe-endpoint --endpoint-type iot:Data-ATS --region eu-west-1 --query endpointAddress --output text)"',
        `--credential-endpoint "$(aws iot describe-endpoint --endpoint-type iot:CredentialProvider --region eu-west-1 --query endpointAddress --output text)/role-aliases/<${ids.roleAlias}>/credentials"`,
        '--thing-name shadowplug-device --region eu-west-1',
        '--cert /etc/shadowplug/device.pem.crt --key /etc/shadowplug/private.pem.key --ca-file /etc/shadowplug/AmazonRootCA1.pem',
        '--shadow-property s3 --dest /srv/shadowplug --state-dir /var/lib/shadowplug',
      ].join(' '),
    );
  });

  it('is a command line the agent accepts', async () => {
    // What the shell makes of it once the two look-ups have answered.
    const command = render((s.json.Outputs.AgentCommand1 as { Value: unknown }).Value)
      .replace(/\$\(aws iot describe-endpoint --endpoint-type iot:Data-ATS [^)]*\)/, 'abc123-ats.iot.eu-west-1.amazonaws.com')
      .replace(/\$\(aws iot describe-endpoint --endpoint-type iot:CredentialProvider [^)]*\)/, 'abc123.credentials.iot.eu-west-1.amazonaws.com');
    const words = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
    expect(words.slice(0, 2)).toEqual(['node', '/usr/local/lib/shadowplug/shadowplug-agent.mjs']);
    const flags: Partial<Record<OptionName, unknown>> = {};
    for (let i = 2; i < words.length; i += 2) {
      const spec = AGENT_FLAGS.find((f) => f.flag.split(' ')[0] === words[i]);
      expect(spec, `agent flag ${words[i]}`).toBeDefined();
      flags[spec!.name] = words[i + 1];
    }
    await expect(resolveAgentOptions(flags)).resolves.toMatchObject({
      endpoint: 'abc123-ats.iot.eu-west-1.amazonaws.com',
      credentialEndpoint: `abc123.credentials.iot.eu-west-1.amazonaws.com/role-aliases/<${ids.roleAlias}>/credentials`,
      thingName: 'shadowplug-device',
      region: 'eu-west-1',
      cert: '/etc/shadowplug/device.pem.crt',
      key: '/etc/shadowplug/private.pem.key',
      caFile: '/etc/shadowplug/AmazonRootCA1.pem',
      shadowProperty: 's3',
    });
  });
});

describe('the alarms', () => {
  const alarms = () => Object.entries(s.json.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm').map(([, r]) => r.Properties as Record<string, unknown>);
  const metricOf = (a: Record<string, unknown>) => `${String(a.Namespace)}/${String(a.MetricName)} ${render((a.Dimensions as { Value: unknown }[] | undefined)?.[0]?.Value ?? '')}`;

  it("notify the outcomes topic on each function's errors and dropped events, failed and skipped clicks, failed shadow writes, rule errors and failed upload events", () => {
    expect(alarms().map(metricOf).sort()).toEqual(
      [
        `AWS/Lambda/Errors <${ids.buttonFn}>`,
        `AWS/Lambda/AsyncEventsDropped <${ids.buttonFn}>`,
        `AWS/Lambda/Errors <${ids.objectFn}>`,
        `AWS/Lambda/AsyncEventsDropped <${ids.objectFn}>`,
        'Shadowplug/ClicksFailed button-click',
        'Shadowplug/ClicksSkipped button-click',
        'Shadowplug/ShadowWritesFailed object-to-shadow',
        'Shadowplug/ButtonRuleErrors ',
        `AWS/SQS/ApproximateNumberOfMessagesVisible <${ids.failedEvents}.QueueName>`,
      ].sort(),
    );
    for (const a of alarms()) {
      expect(a).toMatchObject({ AlarmActions: [{ Ref: ids.topic }], Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', Statistic: 'Sum' });
    }
  });

  it("count every record in the button rule's error log group", () => {
    s.template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: ids.ruleErrors },
      FilterPattern: '',
      MetricTransformations: [{ MetricNamespace: 'Shadowplug', MetricName: 'ButtonRuleErrors', MetricValue: '1' }],
    });
  });

  it('leave X-Ray off unless asked (-c tracing=true)', () => {
    expect(props(ids.buttonFn).TracingConfig).toBeUndefined();
    expect(props(ids.objectFn).TracingConfig).toBeUndefined();
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding', () => {
    const nag = s.validationReport.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    expect(nag?.conclusion).toBe('success');
    for (const report of s.validationReport.pluginReports) expect(report.violations).toEqual([]);
  });

  it('acknowledges only these findings, one by one, each with a reason', () => {
    const nag = s.validationReport.pluginReports.find((p) => p.pluginName === 'AwsSolutions');
    const acknowledged = nag?.suppressedViolations.map((v) => `${v.acknowledgedId} @ ${v.violatingConstructs.map((c) => c.constructPath).join(',')}`);
    expect(acknowledged?.sort()).toEqual(
      [
        'AwsSolutions::AwsSolutions-L1 @ Shadowplug/ButtonPath/Handler/Function/Resource',
        'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*] @ Shadowplug/ButtonPath/Handler/Role/DefaultPolicy/Resource',
        'AwsSolutions::AwsSolutions-L1 @ Shadowplug/FilePath/Handler/Function/Resource',
        'AwsSolutions::AwsSolutions-IAM5[Resource::*] @ Shadowplug/IotDataEndpoint/Lookup/CustomResourcePolicy/Resource',
        `AwsSolutions::AwsSolutions-IAM5[Resource::<${ids.files}.Arn>/*] @ Shadowplug/FilePath/Handler/Role/DefaultPolicy/Resource`,
        `AwsSolutions::AwsSolutions-IAM5[Resource::<${ids.files}.Arn>/*] @ Shadowplug/Devices/DeviceRole/DefaultPolicy/Resource`,
        'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole] @ Shadowplug/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Role/Resource',
      ].sort(),
    );
    for (const v of nag?.suppressedViolations ?? []) expect(v.reason.length).toBeGreaterThan(60);
  });
});

describe('the bundles', () => {
  /** The staged asset directory of a function's code. */
  function bundleDir(fnId: string): string {
    const key = (props(fnId).Code as { S3Key: string }).S3Key;
    return join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
  }

  it('are minified ESM with the AWS SDK left to the runtime', () => {
    const sdkClients = new Map([
      [ids.buttonFn, ['@aws-sdk/client-sns']],
      [ids.objectFn, ['@aws-sdk/client-s3', '@aws-sdk/client-iot-data-plane']],
    ]);
    for (const [fnId, clients] of sdkClients) {
      const file = join(bundleDir(fnId), 'index.mjs');
      const code = readFileSync(file, 'utf8');
      // Imported by name from the runtime, not inlined (each client is hundreds of KB).
      for (const client of clients) expect(code).toContain(`"${client}"`);
      expect(statSync(file).size).toBeLessThan(200_000);
      // Minified: no indentation left.
      expect(code).not.toMatch(/\n {2}\S/);
    }
  });

  it('load in Node as Lambda loads them, each accepting the configuration the stack gives it', async () => {
    const node = (file: string, script: string, variables: Record<string, unknown>, extra: Record<string, string>) =>
      run(process.execPath, ['--input-type=module', '-e', script, file], {
        env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_LAMBDA_FUNCTION_NAME: 'fn', ...(variables as Record<string, string>), ...extra },
      });
    const variables = (fnId: string) => (props(fnId).Environment as { Variables: Record<string, unknown> }).Variables;

    // The button function parses its configuration at init (a bad one would throw here).
    const button = await node(
      join(bundleDir(ids.buttonFn), 'index.mjs'),
      'const m = await import(process.argv[1]); console.log(typeof m.handler);',
      variables(ids.buttonFn),
      { [BUTTON_ENV.snsTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:outcomes' },
    );
    expect(button.stdout.trim()).toBe('function');

    // The S3 function parses it on its first event: an event with no records touches no network.
    const object = await node(
      join(bundleDir(ids.objectFn), 'index.mjs'),
      'const m = await import(process.argv[1]); console.log(JSON.stringify(await m.handler({ Records: [] })));',
      variables(ids.objectFn),
      { [OBJECT_ENV.iotDataEndpoint]: 'https://abc123-ats.iot.eu-west-1.amazonaws.com' },
    );
    expect(JSON.parse(object.stdout.trim().split('\n').pop() ?? '')).toEqual({ records: [] });
  });
});
