import { Stack } from 'aws-cdk-lib';
import { Alias, type IKey } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

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

    // The AWS-managed SNS key encrypts at rest without a $1/month customer key; its key policy lets
    // any principal of this account use it through SNS, so publishers need only sns:Publish.
    const awsManagedKey: IKey = Alias.fromAliasName(this, 'AwsManagedSnsKey', 'alias/aws/sns');

    // The outcomes topic: encrypted, reachable only over TLS (enforceSSL adds the deny statement).
    this.topic = new Topic(this, 'Outcomes', {
      displayName: `${Stack.of(this).stackName} outcomes`,
      masterKey: awsManagedKey,
      enforceSSL: true,
    });

    // An optional mailbox for the outcomes.
    if (props.notifyEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.notifyEmail));
    }
  }
}
