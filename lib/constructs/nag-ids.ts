import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

/**
 * The bucket's logical id, as cdk-nag spells it in a finding id (`Resource::<Id.Arn>/...`): an
 * acknowledgement must name the finding exactly, so it is derived rather than copied from a report.
 */
export function bucketLogicalId(bucket: IBucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
}

/** cdk-nag writes a policy variable `${a:b}` as `<a:b>` in finding ids. */
export function nagPolicyVariables(resource: string): string {
  return resource.replace(/\$\{([^}]+)\}/g, '<$1>');
}
