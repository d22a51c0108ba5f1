/**
 * AWS's documented limits that a template from this stack can run into, each with its page.
 * CloudFormation would otherwise roll the whole stack back on the first one exceeded.
 */
import { SHADOW_NAME_PATTERN } from '../../core/shadow/topics';

export const AWS_LIMITS = {
  /** https://docs.aws.amazon.com/general/latest/gr/iot-core.html#security-limits (policy document size, excluding whitespace) */
  iotPolicyCharacters: 2048,
  /** https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html#reference_iam-quotas-entity-length (role inline policies together, excluding whitespace) */
  iamRoleInlinePolicyCharacters: 10_240,
  /** https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (all environment variables of a function together) */
  lambdaEnvironmentBytes: 4096,
  /** https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (MaxSessionDuration, seconds) */
  roleMaxSessionSeconds: { min: 3600, max: 43_200 },
  /** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateRoleAlias.html (credentialDurationSeconds; also at most the role's MaxSessionDuration) */
  roleAliasCredentialSeconds: { min: 900, max: 43_200 },
  /** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateThing.html */
  thingName: /^[a-zA-Z0-9:_-]{1,128}$/,
  /** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateRoleAlias.html */
  roleAliasName: /^[\w=,@-]{1,128}$/,
  /** https://docs.aws.amazon.com/iot/latest/apireference/API_CreatePolicy.html */
  iotPolicyName: /^[\w+=,.@-]{1,128}$/,
  /** https://docs.aws.amazon.com/iot/latest/apireference/API_CreateTopicRule.html */
  topicRuleName: /^[a-zA-Z0-9_]{1,128}$/,
  /** https://docs.aws.amazon.com/iot/latest/developerguide/iot-device-shadows.html and https://docs.aws.amazon.com/general/latest/gr/iot-core.html#device-shadow-limits (shadow name) */
  shadowName: SHADOW_NAME_PATTERN,
  /** https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits (forward slashes in a topic or filter) */
  topicSlashes: 7,
  /** https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html (function timeout, seconds) */
  lambdaTimeoutSeconds: 900,
  /** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
  cloudFormationResources: 500,
  /** https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html */
  cloudFormationOutputs: 200,
} as const;
