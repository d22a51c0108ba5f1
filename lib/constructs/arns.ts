import { Stack, type CfnElement } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** IAM resource ARN of an IoT resource (`thing/<name>`, `thinggroup/<name>`, `job/<id>`). */
export function iotArn(scope: Construct, resource: string, resourceName: string): string {
  return Stack.of(scope).formatArn({ service: 'iot', resource, resourceName });
}

/** A thing's shadow: `thing/<name>` (classic) or `thing/<name>/<shadow>` (named). */
export function shadowArn(scope: Construct, thingName: string, shadowName?: string): string {
  return iotArn(scope, 'thing', shadowName === undefined ? thingName : `${thingName}/${shadowName}`);
}

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
