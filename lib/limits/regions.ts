/**
 * Regions where every resource type and property of this stack exists, per cfn-lint's
 * CloudFormation schemas (the validators test checks the template against all of them). Missing
 * elsewhere: `AWS::IoT::RoleAlias` in af-south-1, ap-east-2, ap-northeast-3, ap-south-2,
 * ap-southeast-3, ap-southeast-4, ap-southeast-6, ap-southeast-7, ca-west-1, eu-central-2 and
 * mx-central-1 (and the topic rule's CloudWatch Logs action in one of them).
 */
export const SUPPORTED_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ca-central-1', 'sa-east-1',
  'eu-central-1', 'eu-north-1', 'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3',
  'il-central-1', 'me-central-1', 'me-south-1',
  'ap-east-1', 'ap-northeast-1', 'ap-northeast-2', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-5',
  'cn-north-1', 'cn-northwest-1', 'us-gov-east-1', 'us-gov-west-1',
] as const;

export const UNSUPPORTED_REGIONS = [
  'af-south-1', 'ap-east-2', 'ap-northeast-3', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4',
  'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'mx-central-1',
] as const;
