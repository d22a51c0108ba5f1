import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/**
 * A key policy statement allowing KMS grants only for AWS services acting for a resource (Control
 * Tower CT.KMS.PR.3): a grant would otherwise give its grantee the key's use beside the key policy.
 */
export function grantsOnlyForAwsServices(): PolicyStatement {
  return new PolicyStatement({
    sid: 'GrantsOnlyForAwsServices',
    effect: Effect.DENY,
    principals: [new AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  });
}

export interface NotificationsProps {
  /** Subscribed by email when given; AWS mails a confirmation link first. */
  readonly notifyEmail?: string;
}

/**
 * Where the owner hears what happened: click outcomes, low batteries, and the failure records of
 * both functions' asynchronous invocations.
 */
export class Notifications extends Construct {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);

    // A customer-managed key (about 1 USD a month), because CloudWatch alarms cannot publish to a
    // topic encrypted with the AWS-managed alias/aws/sns key: its key policy cannot name
    // cloudwatch.amazonaws.com. Publishers get encrypt rights through grantPublish.
    const key = new Key(this, 'TopicKey', {
      description: `${Stack.of(this).stackName} outcomes topic`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    key.addToResourcePolicy(grantsOnlyForAwsServices());

    this.topic = new Topic(this, 'Outcomes', {
      displayName: `${Stack.of(this).stackName} outcomes`,
      masterKey: key,
      enforceSSL: true,
    });

    if (props.notifyEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.notifyEmail));
    }
  }

  /** Lets `role` publish to the topic, which includes encrypting with its key. */
  grantPublish(role: IRole): void {
    this.topic.grantPublish(role);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: "Publishing to the outcomes topic encrypts with its key: kms:GenerateDataKey* (SNS's documented action set for an encrypted topic), on that one key only.",
    });
  }
}
