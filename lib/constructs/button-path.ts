import { Aws, RemovalPolicy, Stack, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnTopicRule } from 'aws-cdk-lib/aws-iot';
import { SnsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BundledFunction } from './bundled-function';
import { BUTTON_LAZY_MODULES } from '../lazy-modules';

export interface ButtonPathProps {
  /** MQTT topic filter the button publishes on, e.g. `iotbutton/+`. */
  readonly topicFilter: string;
  /** The button function's validated configuration (built by core/button/config.ts). */
  readonly environment: Record<string, string>;
  /** Long enough for the configuration's worst case (see buttonTimeoutSeconds). */
  readonly timeout: Duration;
  /** How long a click may wait in Lambda's queue (see buttonMaxEventAgeSeconds). */
  readonly maxEventAge: Duration;
  /** Outcomes go here; so do failed invocations. */
  readonly topic: ITopic;
  /** Relay mode: the plug shadows the function reads and writes, and nothing else of IoT. */
  readonly plugShadows?: readonly { thing: string; shadowName: string }[];
  /** Direct mode: the Secrets Manager secret (name or ARN) with the plug credentials; the function may read it and no other. */
  readonly credentialsSecret?: string;
  /** Active X-Ray tracing of the function. */
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

/** The rule's SQL: every button field, plus an id and a receipt time the payload itself lacks. */
export function buttonRuleSql(topicFilter: string): string {
  return `SELECT *, newuuid() AS requestId, timestamp() AS receivedAt FROM '${topicFilter}'`;
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
  readonly rule: CfnTopicRule;
  readonly ruleErrors: LogGroup;

  constructor(scope: Construct, id: string, props: ButtonPathProps) {
    super(scope, id);

    // The click handler; its timeout is the click's worst case for this configuration
    // (lib/function-settings.ts). 256 MB buys a faster cold start (CPU scales with memory) for a function that runs a
    // few times a day.
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
    // The handler publishes each click's outcome itself.
    props.topic.grantPublish(this.handler.fn);
    // Relay mode: get and update exactly the configured plug shadows (named shadow ARN: thing/<thing>/<shadow>).
    const plugShadows = props.plugShadows ?? [];
    if (plugShadows.length > 0) {
      const stack = Stack.of(this);
      this.handler.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
          resources: plugShadows.map((p) => stack.formatArn({ service: 'iot', resource: 'thing', resourceName: `${p.thing}/${p.shadowName}` })),
        }),
      );
    }

    // Direct mode: read the plug credentials secret, and no other (no customer-managed KMS grant: see docs/deploy.md).
    if (props.credentialsSecret !== undefined) importSecret(this, 'PlugCredentials', props.credentialsSecret).grantRead(this.handler.fn);

    // Where the rule reports actions it could not run (e.g. Lambda throttled or unreachable).
    this.ruleErrors = new LogGroup(this, 'RuleErrors', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    // IoT writes those error records with this role, and with nothing else.
    const errorRole = new Role(this, 'RuleErrorRole', {
      assumedBy: new ServicePrincipal('iot.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: 'Lets the button topic rule write its error records to CloudWatch Logs',
    });
    // The three calls the IoT CloudWatch Logs action makes, on this log group only.
    this.ruleErrors.grant(errorRole, 'logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents');

    // The topic rule itself: SQL version 2016-03-23, the function as its only action.
    this.rule = new CfnTopicRule(this, 'Rule', {
      topicRulePayload: {
        description: `Button clicks on ${props.topicFilter} to the button function`,
        awsIotSqlVersion: '2016-03-23',
        sql: buttonRuleSql(props.topicFilter),
        ruleDisabled: false,
        actions: [{ lambda: { functionArn: this.handler.fn.functionArn } }],
        errorAction: { cloudwatchLogs: { logGroupName: this.ruleErrors.logGroupName, roleArn: errorRole.roleArn } },
      },
    });

    // Only this rule, in this account, may invoke the function.
    this.handler.fn.addPermission('InvokeFromButtonRule', {
      principal: new ServicePrincipal('iot.amazonaws.com'),
      sourceArn: this.rule.attrArn,
      sourceAccount: Aws.ACCOUNT_ID,
    });
  }
}
