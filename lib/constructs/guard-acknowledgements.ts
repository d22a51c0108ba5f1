/**
 * The Control Tower proactive controls (cfn-guard, via @cdklabs/cdk-validator-cfnguard) this stack
 * does not meet on purpose, acknowledged resource by resource with the reason. Anything else the
 * rules find fails the validators test (test/infra/validators.test.ts).
 */
import { CfnResource, Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

const PLUGIN = 'cdk-validator-cfnguard';

/** Rule → why this stack does not follow it, per resource type. */
const REASONS: Record<string, Record<string, string>> = {
  'AWS::Lambda::Function': {
    lambda_inside_vpc_check:
      'No VPC: the button function must reach the plug on the home network over the internet, and the others call only AWS APIs; a VPC would need a NAT gateway (about 32 USD a month) for nothing gained.',
  },
  'AWS::Logs::LogGroup': {
    cloudwatch_log_group_retention_period_check:
      'Logs hold clicks, thing names and outcomes (personal activity data): kept a month (a week for the deploy-time lookup), enough to debug, not a year.',
    cloudwatch_log_group_encrypted_check:
      'CloudWatch Logs encrypts at rest with service-managed keys; a customer-managed key costs a monthly fee and a key policy for logs.amazonaws.com, for no added protection in a one-owner account.',
  },
  'AWS::S3::Bucket': {
    s3_bucket_default_encryption_kms_check:
      'SSE-S3: server access logs can be delivered only to an SSE-S3 bucket, and the files bucket stays readable with s3:GetObject alone (devices would need kms:Decrypt on a customer key).',
    s3_bucket_object_lock_enabled_check: 'Files are replaced and deleted by their owner, and old versions are trimmed by lifecycle: object lock would forbid both.',
    s3_event_notifications_enabled_check:
      "The files bucket's notifications are set by CDK's BucketNotifications custom resource, which the rule cannot see; the access-log bucket has nothing to notify.",
  },
};

/** The access-log bucket only. */
const ACCESS_LOG_REASONS: Record<string, string> = {
  s3_bucket_versioning_enabled_check: 'The access-log bucket: the logging service appends new objects and never overwrites one.',
  s3_bucket_logging_enabled_check: 'The access-log bucket: logging it into itself would loop.',
};

export function acknowledgeGuardFindings(stack: Stack, accessLogBucket: IConstruct): void {
  const resources = stack.node.findAll().filter((c: IConstruct): c is CfnResource => CfnResource.isCfnResource(c));
  for (const resource of resources) {
    for (const [rule, reason] of Object.entries(REASONS[resource.cfnResourceType] ?? {})) {
      Validations.of(resource).acknowledge({ id: `${PLUGIN}::${rule}`, reason });
    }
  }
  for (const [rule, reason] of Object.entries(ACCESS_LOG_REASONS)) {
    Validations.of(accessLogBucket).acknowledge({ id: `${PLUGIN}::${rule}`, reason });
  }
}
