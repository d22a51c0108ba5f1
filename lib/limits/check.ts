/** AWS's limits checked on a resolved template; each violation names the context key that drives the value. Pure. */
import { policyCharacters } from '../../core/iot-policy/policy';
import { AWS_LIMITS } from './aws-limits';
import { ROLLOUT_ENV } from '../../core/jobs/config';
import { MAX_JOB_DOCUMENT_BYTES, worstCaseJobDocumentBytes } from '../../core/jobs/job-document';
import type { ResolvedTemplate } from './resolve-template';

export interface LimitViolation {
  rule: string;
  /** Logical id. */
  resource: string;
  /** The context key whose value made it so (or what else to change). */
  key: string;
  message: string;
}

export interface LimitCheckOptions {
  /** Lambda environment variable → the context key it is made from. */
  environmentKeys: Readonly<Record<string, string>>;
}

type Properties = Record<string, unknown>;
const n = (x: number) => x.toLocaleString('en-US');

function violation(rule: string, resource: string, key: string, problem: string): LimitViolation {
  return { rule, resource, key, message: `context "${key}": ${problem}` };
}

function iamRoleSizes(template: ResolvedTemplate): Map<string, { id: string; characters: number }> {
  const byName = new Map<string, { id: string; characters: number }>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const own = ((r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).reduce((sum, p) => sum + policyCharacters(p.PolicyDocument), 0);
    byName.set(template.names[id] ?? id, { id, characters: own });
  }
  for (const r of Object.values(template.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    for (const role of (r.Properties?.Roles as string[] | undefined) ?? []) {
      const entry = byName.get(role);
      if (entry) entry.characters += policyCharacters(r.Properties?.PolicyDocument);
    }
  }
  return byName;
}

function checkResource(id: string, type: string, p: Properties, options: LimitCheckOptions, template: ResolvedTemplate): LimitViolation[] {
  const out: LimitViolation[] = [];
  switch (type) {
    case 'AWS::IoT::Policy': {
      const size = policyCharacters(p.PolicyDocument);
      if (size > AWS_LIMITS.iotPolicyCharacters) {
        out.push(violation('iot-policy-size', id, 'shadowName', `the device policy would be ${n(size)} characters, over AWS IoT's ${n(AWS_LIMITS.iotPolicyCharacters)} (excluding whitespace)`));
      }
      if (typeof p.PolicyName === 'string' && !AWS_LIMITS.iotPolicyName.test(p.PolicyName)) {
        out.push(violation('iot-policy-name', id, 'stack name', `IoT policy name "${p.PolicyName}" is not 1-128 of \\w+=,.@-`));
      }
      break;
    }
    case 'AWS::IoT::Thing':
      if (!AWS_LIMITS.thingName.test(String(p.ThingName))) {
        out.push(violation('iot-thing-name', id, 'thingNames', `"${String(p.ThingName)}" is not a thing name (1-128 of a-z A-Z 0-9 : _ -)`));
      }
      break;
    case 'AWS::IoT::RoleAlias': {
      const seconds = Number(p.CredentialDurationSeconds ?? 3600);
      const role = Object.entries(template.Resources).find(([roleId, r]) => r.Type === 'AWS::IAM::Role' && String(p.RoleArn).endsWith(`:role/${template.names[roleId]}`))?.[1];
      const roleMax = Number(role?.Properties?.MaxSessionDuration ?? AWS_LIMITS.roleMaxSessionSeconds.min);
      const { min, max } = AWS_LIMITS.roleAliasCredentialSeconds;
      if (seconds < min || seconds > max || seconds > roleMax) {
        out.push(violation('role-alias-duration', id, 'credentialDurationSeconds', `${n(seconds)} s must be ${n(min)}-${n(max)} and at most the role's MaxSessionDuration (${n(roleMax)} s)`));
      }
      if (!AWS_LIMITS.roleAliasName.test(String(p.RoleAlias))) {
        out.push(violation('role-alias-name', id, 'stack name', `role alias "${String(p.RoleAlias)}" is not 1-128 of \\w=,@-`));
      }
      break;
    }
    case 'AWS::IAM::Role': {
      const seconds = Number(p.MaxSessionDuration ?? AWS_LIMITS.roleMaxSessionSeconds.min);
      const { min, max } = AWS_LIMITS.roleMaxSessionSeconds;
      if (seconds < min || seconds > max) out.push(violation('role-max-session', id, 'credentialDurationSeconds', `MaxSessionDuration ${n(seconds)} s is outside IAM's ${n(min)}-${n(max)}`));
      break;
    }
    case 'AWS::Lambda::Function':
      out.push(...checkFunction(id, p, options));
      break;
    case 'AWS::IoT::TopicRule':
      out.push(...checkRule(id, p));
      break;
  }
  return out;
}

function checkFunction(id: string, p: Properties, options: LimitCheckOptions): LimitViolation[] {
  const out: LimitViolation[] = [];
  const variables = ((p.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {}) as Record<string, string>;
  // Names and values together, as JSON: a little more than Lambda counts, never less.
  const bytes = Buffer.byteLength(JSON.stringify(variables));
  if (bytes > AWS_LIMITS.lambdaEnvironmentBytes) {
    const [largest] = Object.entries(variables).sort(([, a], [, b]) => b.length - a.length)[0] ?? ['?'];
    out.push(
      violation('lambda-environment-size', id, options.environmentKeys[largest] ?? largest, `the function's environment would be ${n(bytes)} bytes (${largest} the largest), over Lambda's ${n(AWS_LIMITS.lambdaEnvironmentBytes)} bytes for all variables together`),
    );
  }
  const prefix = variables[ROLLOUT_ENV.keyPrefix];
  if (prefix !== undefined && worstCaseJobDocumentBytes(prefix) > MAX_JOB_DOCUMENT_BYTES) {
    out.push(violation('job-document-size', id, 'rollout', `a job document for an upload under "${prefix}" may reach ${n(worstCaseJobDocumentBytes(prefix))} bytes, over IoT's ${n(MAX_JOB_DOCUMENT_BYTES)}`));
  }
  if (Number(p.Timeout ?? 3) > AWS_LIMITS.lambdaTimeoutSeconds) {
    out.push(violation('lambda-timeout', id, 'buttonTargets', `timeout ${String(p.Timeout)} s is over Lambda's ${AWS_LIMITS.lambdaTimeoutSeconds} s`));
  }
  return out;
}

function checkRule(id: string, p: Properties): LimitViolation[] {
  const out: LimitViolation[] = [];
  const payload = p.TopicRulePayload as { Sql?: string } | undefined;
  const from = /FROM\s+'([^']*)'/i.exec(payload?.Sql ?? '')?.[1];
  if (from !== undefined && (from.match(/\//g) ?? []).length > AWS_LIMITS.topicSlashes) {
    out.push(violation('topic-slashes', id, 'buttonTopicFilter', `"${from}" has more than ${AWS_LIMITS.topicSlashes} forward slashes, IoT's limit for a topic filter`));
  }
  if (typeof p.RuleName === 'string' && !AWS_LIMITS.topicRuleName.test(p.RuleName)) {
    out.push(violation('topic-rule-name', id, 'stack name', `rule name "${p.RuleName}" is not 1-128 of a-z A-Z 0-9 _`));
  }
  return out;
}

export function awsLimitViolations(template: ResolvedTemplate, options: LimitCheckOptions): LimitViolation[] {
  const out = Object.entries(template.Resources).flatMap(([id, r]) => checkResource(id, r.Type, r.Properties ?? {}, options, template));
  for (const [name, { id, characters }] of iamRoleSizes(template)) {
    if (characters > AWS_LIMITS.iamRoleInlinePolicyCharacters) {
      out.push(violation('iam-role-policy-size', id, 'thingNames', `the inline policies of role ${name} would be ${n(characters)} characters, over IAM's ${n(AWS_LIMITS.iamRoleInlinePolicyCharacters)} (excluding whitespace)`));
    }
  }
  const resources = Object.keys(template.Resources).length;
  if (resources > AWS_LIMITS.cloudFormationResources) out.push(violation('cfn-resources', 'template', 'thingNames', `${resources} resources, over CloudFormation's ${AWS_LIMITS.cloudFormationResources}`));
  const outputs = Object.keys(template.Outputs ?? {}).length;
  if (outputs > AWS_LIMITS.cloudFormationOutputs) out.push(violation('cfn-outputs', 'template', 'thingNames', `${outputs} outputs, over CloudFormation's ${AWS_LIMITS.cloudFormationOutputs}`));
  return out;
}
