import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

export interface ReplayableQueueProps {
  /** What lands here, for the alarm's description. */
  readonly what: string;
  readonly topic: ITopic;
}

/**
 * Where work that failed every retry waits to be replayed (`aws sqs start-message-move-task`,
 * docs/deploy.md): kept 14 days (SQS's maximum), encrypted, TLS only, and an alarm on the outcomes
 * topic as soon as one message is in it.
 */
export class ReplayableQueue extends Construct {
  readonly queue: Queue;
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: ReplayableQueueProps) {
    super(scope, id);
    // A dead-letter queue, declared as one (its messages may be moved back).
    this.queue = new Queue(this, 'Queue', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      redriveAllowPolicy: { redrivePermission: RedrivePermission.ALLOW_ALL },
    });
    this.alarm = new Alarm(this, 'NotEmpty', {
      metric: this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: `${props.what} waits to be replayed (docs/deploy.md, "Replaying failed events")`,
    });
    this.alarm.addAlarmAction(new SnsAction(props.topic));
  }
}
