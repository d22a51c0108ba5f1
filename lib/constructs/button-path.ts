import { Aws, RemovalPolicy, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SnsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BundledFunction } from './bundled-function';
import { shadowArn } from './arns';
import { BUTTON_LAZY_MODULES } from '../lazy-modules';

export interface ButtonPathProps {
  /** MQTT topic filter the button publishes on, e.g. `iotbutton/+`. */
  readonly topicFilter: string;
  /** The environment, timeout and event age buttonFunction (function-settings.ts) derives from the settings. */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly maxEventAge: Duration;
  /** Outcomes go here; so do failed invocations. */
  readonly topic: ITopic;
  /** Relay mode: the plug shadows the function reads and writes, and nothing else of IoT. */
  readonly plugShadows?: readonly { thing: string; shadowName: string }[];
  /** Direct mode: the Secrets Manager secret (name or ARN) with the plug credentials; the function may read it and no other. */
  readonly credentialsSecret?: string;
  readonly tracing?: boolean;
}

/**
 * An existing secret by what the owner gave: a complete ARN (ending in `-` and the 6 characters
 * Secrets Manager adds), a partial ARN, or a name (the grant then covers `<name>-??????`).
 */
export function importSecret(scope: Construct, id: string, secret: string): ISecret {
  if (!secret.startsWith('arn:')) return Secret.fromSecretNameV2(scope, id, secret);
  return /-[A-Za-z0-9]{6}$/.test(secret) ? Secret.fromSecretCompleteArn(scope, id, secret) : Secret.fromSecretPartialArn(scope, id, secret);
}

/**
 * Click → topic rule → button function → the plug's shadow (relay, the default) or the plug itself
 * (direct) → outcome on SNS.
 *
 * Exactly once: IoT invokes Lambda asynchronously and Lambda would retry a failed click twice — a
 * toggle run twice undoes itself — so retries are 0 and a click too old to act on is dropped;
 * a failed invocation's record goes to the outcomes topic instead, so the owner still hears of it.
 */
export class ButtonPath extends Construct {
  readonly handler: BundledFunction;
  readonly ruleErrors: LogGroup;

  constructor(scope: Construct, id: string, props: ButtonPathProps) {
    super(scope, id);

    // 256 MB buys a faster cold start (CPU scales with memory) for a function that runs a few times a day.
    this.handler = new BundledFunction(this, 'Handler', {
      entry: 'lambda/button-click.ts',
      description: 'Button click: switch the TP-Link plug(s) and notify',
      memorySize: 256,
      timeout: props.timeout,
      environment: props.environment,
      tracing: props.tracing,
      lazyModules: BUTTON_LAZY_MODULES,
      async: {
        retryAttempts: 0,
        maxEventAge: props.maxEventAge,
        onFailure: new SnsDestination(props.topic),
      },
    });
    props.topic.grantPublish(this.handler.fn);
    const plugShadows = props.plugShadows ?? [];
    if (plugShadows.length > 0) {
      this.handler.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
          resources: plugShadows.map((p) => shadowArn(this, p.thing, p.shadowName)),
        }),
      );
    }

    // No customer-managed KMS grant: see docs/deploy.md.
    if (props.credentialsSecret !== undefined) importSecret(this, 'PlugCredentials', props.credentialsSecret).grantRead(this.handler.fn);

    // Where the rule reports actions it could not run (e.g. Lambda throttled or unreachable).
    this.ruleErrors = new LogGroup(this, 'RuleErrors', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const errorRole = new Role(this, 'RuleErrorRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Lets the button topic rule write its error records to CloudWatch Logs',
    });
    // The three calls the IoT CloudWatch Logs action makes.
    this.ruleErrors.grant(errorRole, 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents');

    // Every button field, plus an id and a receipt time the payload itself lacks.
    const rule = new CfnTopicRule(this, 'Rule', {
      topicRulePayload: {
        description: `Button clicks on ${props.topicFilter} to the button function`,
        awsIotSqlVersion: '2016-03-23',
        sql: `SELECT *, newuuid() AS requestId, timestamp() AS receivedAt FROM '${props.topicFilter}'`,
        ruleDisabled: false,
        actions: [{ lambda: { functionArn: this.handler.fn.functionArn } }],
        errorAction: { cloudwatchLogs: { logGroupName: this.ruleErrors.logGroupName, roleArn: errorRole.roleArn } },
      },
    });

    this.handler.fn.addPermission('InvokeFromButtonRule', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: rule.attrArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
  }
}
