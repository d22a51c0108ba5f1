import { Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BundledFunction } from './bundled-function';
import { bucketLogicalId, iotArn, shadowArn } from './arns';
import { ReplayableQueue } from './alarms';
import { WORKER_INSTANCES } from '../../core/fleet/settings';

export interface FanOutProps {
  readonly shadowName?: string;
  /** The worker's environment (core/fleet/settings.ts), and the names of the variables for what is created here. */
  readonly environment: Record<string, string>;
  readonly env: { progressBucket: string; topicArn: string; maxReceiveCount: string };
  readonly topic: ITopic;
  readonly accessLogs: IBucket;
  readonly tracing?: boolean;
}

/** Deliveries of a batch before it moves to the dead-letter queue. */
const MAX_RECEIVE_COUNT = 5;
const WORKER_TIMEOUT = Duration.seconds(90);

/**
 * For fleets named by thing groups: the queue of batches, the rate-limited worker that writes them,
 * its dead-letter queue, and the bucket where it counts finished batches (one summary per upload).
 */
export class FanOut extends Construct {
  readonly queue: Queue;
  readonly deadLetters: ReplayableQueue;
  readonly worker: BundledFunction;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);
    this.deadLetters = new ReplayableQueue(this, 'DeadLetters', { what: 'A fan-out batch (devices whose shadow was not written)', topic: props.topic });
    this.queue = new Queue(this, 'Batches', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the worker's timeout, as Lambda's SQS event source asks.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetters.queue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    const progress = new Bucket(this, 'Progress', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioned and logged like the files bucket; entries live a week, replaced ones a day.
      versioned: true,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: 'fanout-progress/',
      lifecycleRules: [{ id: 'expire-progress', expiration: Duration.days(7), noncurrentVersionExpiration: Duration.days(1) }],
    });

    this.worker = new BundledFunction(this, 'Worker', {
      entry: 'lambda/fanout-worker.ts',
      description: 'Fan-out batches: write the upload into each listed device shadow, rate-limited',
      memorySize: 256,
      timeout: WORKER_TIMEOUT,
      environment: {
        ...props.environment,
        [props.env.progressBucket]: progress.bucketName,
        [props.env.topicArn]: props.topic.topicArn,
        [props.env.maxReceiveCount]: String(MAX_RECEIVE_COUNT),
      },
      tracing: props.tracing,
    });
    this.worker.fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true, maxConcurrency: WORKER_INSTANCES }));
    progress.grantReadWrite(this.worker.role);
    // Group members are known only when an upload is handled: any thing's shadow, this shadow name only.
    this.worker.fn.addToRolePolicy(
      new PolicyStatement({ sid: 'GroupMemberShadows', actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'], resources: [shadowArn(this, '*', props.shadowName)] }),
    );
    Validations.of(this.worker.role).acknowledge(
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thing/*${props.shadowName === undefined ? '' : `/${props.shadowName}`}]`,
        reason: 'Members of the configured thing groups are resolved when an upload is handled, so their names are not known at deploy time; the worker writes only the things the object function listed from those groups.',
      },
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((action) => ({
        id: `AwsSolutions::AwsSolutions-IAM5[Action::${action}]`,
        reason: "The worker's own progress bucket (one object per finished batch, expired after 7 days): CDK's grantReadWrite action set, on that bucket only.",
      })),
      {
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketLogicalId(progress)}.Arn>/*]`,
        reason: "The worker's own progress bucket: every object in it is a progress entry.",
      },
    );
  }

  /** The object function may list exactly these groups and enqueue batches. */
  grantObjectFunction(fn: BundledFunction, groups: readonly string[]): void {
    this.queue.grantSendMessages(fn.role);
    fn.fn.addToRolePolicy(new PolicyStatement({ sid: 'ListConfiguredGroups', actions: ['iot:ListThingsInThingGroup'], resources: groups.map((g) => iotArn(this, 'thinggroup', g)) }));
  }
}
