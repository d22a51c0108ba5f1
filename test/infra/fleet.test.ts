/**
 * The stack with thing groups: the object function may list exactly the configured groups and
 * enqueue on the fan-out queue, the worker reads that queue with partial batch responses (at most
 * two at once), failed batches go to a dead-letter queue with an alarm, and the worker's
 * environment parses as it will at cold start. Without groups none of it exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFanOutConfig } from '../../core/fleet/settings';
import { envName } from '../../core/settings/schema';
import { renderList } from './render';
import { resourceId, roleStatements, synthesize, type Synthesis } from './synth';

const ARN = 'arn:aws:iot:eu-west-1:123456789012';
let s: Synthesis;
let plain: Synthesis;

beforeAll(() => {
  s = synthesize({ thingGroups: 'warehouse-sensors,site-a', fanOutWritesPerSecond: '250' }, { bundle: false });
  plain = synthesize({}, { bundle: false });
});
afterAll(() => {
  s?.close();
  plain?.close();
});

const props = (syn: Synthesis, id: string) => syn.json.Resources[id]!.Properties as Record<string, unknown>;
const statementsOf = (syn: Synthesis, rolePrefix: string) =>
  roleStatements(syn, resourceId(syn, 'AWS::IAM::Role', rolePrefix)).map((st) => ({ actions: renderList(st.Action).sort(), resources: renderList(st.Resource) }));

describe('thingGroups', () => {
  it('lets the object function list exactly the configured groups and send batches to the fan-out queue', () => {
    const statements = statementsOf(s, 'FilePathHandlerRole');
    expect(statements).toContainEqual({ actions: ['iot:ListThingsInThingGroup'], resources: [`${ARN}:thinggroup/warehouse-sensors`, `${ARN}:thinggroup/site-a`] });
    expect(statements).toContainEqual({ actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resources: [`<${resourceId(s, 'AWS::SQS::Queue', 'FanOutBatches')}.Arn>`] });
    expect(statements).toContainEqual({ actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], resources: [`${ARN}:thing/*`] });
    const variables = (props(s, resourceId(s, 'AWS::Lambda::Function', 'FilePathHandlerFunction')).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables[envName('thingGroups')]).toBe('warehouse-sensors,site-a');
    expect(variables[envName('fanOutQueueUrl')]).toEqual({ Ref: resourceId(s, 'AWS::SQS::Queue', 'FanOutBatches') });
  });

  it('runs the worker from the queue with partial batch responses, at most two at once, and a dead-letter queue after 5 deliveries', () => {
    const worker = resourceId(s, 'AWS::Lambda::Function', 'FanOutWorkerFunction');
    const batches = resourceId(s, 'AWS::SQS::Queue', 'FanOutBatches');
    const dlq = resourceId(s, 'AWS::SQS::Queue', 'FanOutDeadLetters');
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: worker },
      EventSourceArn: { 'Fn::GetAtt': [batches, 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    expect(props(s, batches)).toMatchObject({ RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 }, VisibilityTimeout: 540 });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }] });
    expect(Object.keys(s.json.Outputs)).toEqual(expect.arrayContaining(['FanOutDeadLetterQueueArn', 'FailedEventsQueueArn', 'ReplayQueueArn']));
  });

  it("configures the worker so that its cold start accepts the environment, with the stack's rate", () => {
    const variables = (props(s, resourceId(s, 'AWS::Lambda::Function', 'FanOutWorkerFunction')).Environment as { Variables: Record<string, unknown> }).Variables;
    const text = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : 'https://token.example']));
    text[envName('snsTopicArn')] = 'arn:aws:sns:eu-west-1:123456789012:outcomes';
    const config = parseFanOutConfig(text);
    expect(config).toMatchObject({ writesPerSecond: 250, maxReceiveCount: 5, shadowProperty: 's3' });
    const statements = statementsOf(s, 'FanOutWorkerRole');
    expect(statements).toContainEqual({ actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], resources: [`${ARN}:thing/*`] });
    expect(statements.some((st) => st.actions.includes('sns:Publish'))).toBe(true);
  });

  it('exists only with thingGroups: the default stack keeps its shadows by name and has no fan-out', () => {
    expect(Object.keys(plain.json.Resources).filter((id) => id.startsWith('FanOut'))).toEqual([]);
    const statements = statementsOf(plain, 'FilePathHandlerRole');
    expect(statements).toContainEqual({ actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], resources: [`${ARN}:thing/shadowplug-device`] });
    expect(statements.some((st) => st.actions.includes('iot:ListThingsInThingGroup'))).toBe(false);
  });

  it('refuses a malformed group name, naming the key', () => {
    expect(() => synthesize({ thingGroups: 'ok,not a group' }, { bundle: false })).toThrow(/thingGroups.*"not a group"|thingGroups.*thing group name/);
  });
});
