import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BundledFunction } from './bundled-function';
import { shadowArn } from './arns';
import { ReplayableQueue } from './alarms';

export interface FilePathProps {
  /** The things whose shadows the function writes — and the only ones it may touch, unless `anyThing`. */
  readonly thingNames: readonly string[];
  /** Members of thing groups are targets too: their names are known only per upload, so any thing's shadow (this shadow name only). */
  readonly anyThing?: boolean;
  readonly shadowName?: string;
  /** Only keys under this prefix reach the function ('' = the whole bucket). */
  readonly keyPrefix: string;
  /** The S3 function's validated configuration (built by core/s3/config.ts). */
  readonly environment: Record<string, string>;
  /** The failed-events queue's alarm notifies this topic. */
  readonly topic: ITopic;
  readonly tracing?: boolean;
}

/**
 * Upload → bucket event → S3 function → `desired.<property>` in each target thing's shadow.
 * The device then fetches the object itself (see DeviceIdentity for its read access).
 */
export class FilePath extends Construct {
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;
  readonly handler: BundledFunction;
  readonly failedEvents: ReplayableQueue;
  /** Where failed events are moved to be run again. */
  readonly replay: Queue;

  constructor(scope: Construct, id: string, props: FilePathProps) {
    super(scope, id);

    // Who read or wrote which file, kept 90 days. ACLs stay disabled: log delivery is granted by
    // bucket policy (cdk.json sets @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy).
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
    });

    // Versioned so every event names the exact bytes (hashed by versionId, downloaded as that version).
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'files/',
      lifecycleRules: [
        {
          // A device that was offline may still ask for an older version: keep replaced versions
          // 30 days (and always the last 3), then let them go.
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(30),
          noncurrentVersionsToRetain: 3,
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    // Hashing is CPU-bound and Lambda's CPU grows with memory (a full vCPU at 1769 MB); 5 minutes
    // cover multi-GB objects. The default two retries stay: the function throws only for errors worth
    // retrying, and an event that fails all three waits in a queue to be replayed (docs/deploy.md).
    this.failedEvents = new ReplayableQueue(this, 'FailedEvents', { what: 'An upload event the S3 function could not handle', topic: props.topic });
    this.handler = new BundledFunction(this, 'Handler', {
      entry: 'lambda/object-to-shadow.ts',
      description: 'S3 object created/removed: write its URL and SHA-256 into the target shadows',
      memorySize: 1769,
      timeout: Duration.minutes(5),
      environment: props.environment,
      tracing: props.tracing,
      async: { maxEventAge: Duration.hours(1), onFailure: new SqsDestination(this.failedEvents.queue) },
    });

    // `aws sqs start-message-move-task` moves failed events here; one that fails again returns after 3 receives.
    this.replay = new Queue(this, 'Replay', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.minutes(30),
      deadLetterQueue: { queue: this.failedEvents.queue, maxReceiveCount: 3 },
    });
    this.handler.fn.addEventSource(new SqsEventSource(this.replay, { batchSize: 1, reportBatchItemFailures: true }));

    this.notifyOnChanges(props.keyPrefix);
    this.grantReadsAndShadows(props);
  }

  private notifyOnChanges(keyPrefix: string): void {
    const filter = keyPrefix === '' ? [] : [{ prefix: keyPrefix }];
    const destination = new LambdaDestination(this.handler.fn);
    this.bucket.addEventNotification(EventType.OBJECT_CREATED, destination, ...filter);
    this.bucket.addEventNotification(EventType.OBJECT_REMOVED, destination, ...filter);
    // CDK applies the notification configuration with its own singleton deploy-time function.
    const notificationsHandler = Stack.of(this).node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notificationsHandler !== undefined) {
      Validations.of(notificationsHandler).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's built-in bucket-notifications handler runs only during deployment; its role is created inside aws-cdk-lib with the basic execution policy and cannot be given a narrower one.",
      });
    }
  }

  private grantReadsAndShadows(props: FilePathProps): void {
    this.handler.grantObjectReads(
      this.bucket,
      props.keyPrefix,
      'ReadAnnouncedObjects',
      'Any uploaded key may need hashing: object-level read (GetObject/GetObjectVersion only) on the files bucket, limited to the configured prefix.',
    );

    this.handler.fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'TargetShadowsOnly',
        actions: ['iot:GetThingShadow', 'iot:UpdateThingShadow'],
        resources: props.anyThing ? [shadowArn(this, '*', props.shadowName)] : props.thingNames.map((name) => shadowArn(this, name, props.shadowName)),
      }),
    );
    if (props.anyThing) {
      Validations.of(this.handler.role).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thing/*${props.shadowName === undefined ? '' : `/${props.shadowName}`}]`,
        reason: 'Members of the configured thing groups are listed when an upload is handled (ListThingsInThingGroup, allowed on those group ARNs only), so their names are not known at deploy time.',
      });
    }
  }
}
