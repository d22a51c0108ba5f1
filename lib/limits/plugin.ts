/**
 * A CDK policy-validation plugin that refuses, at synth, a template AWS would refuse at deploy:
 * it resolves each stack's template for the longest partition and region names
 * (./resolve-template.ts, WORST_CASE) and reports every limit exceeded (./check.ts), naming the
 * context key and the limit. Registered in lib/app.ts next to cdk-nag.
 */
import { readFileSync } from 'node:fs';
import type { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { contextKeyOfVariable } from '../../core/settings/stack';
import { awsLimitViolations, type LimitCheckOptions } from './check';
import { resolveTemplate, WORST_CASE } from './resolve-template';

/** Which context key each function environment variable is made from (for limit messages). */
export const ENVIRONMENT_CONTEXT_KEYS = contextKeyOfVariable();

export class AwsLimitsChecks implements IPolicyValidationPlugin {
  readonly name = 'shadowplug-aws-limits';
  readonly version = '1.0.0';

  constructor(private readonly options: LimitCheckOptions) {}

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations = context.stackTemplates.flatMap(({ stackConstructPath, templatePath }) => {
      const template = JSON.parse(readFileSync(templatePath, 'utf8')) as Parameters<typeof resolveTemplate>[0];
      const stackName = stackConstructPath.split('/').pop() ?? stackConstructPath;
      return awsLimitViolations(resolveTemplate(template, WORST_CASE, stackName), this.options).map((v) => ({
        ruleName: v.rule,
        description: v.message,
        fix: `change context "${v.key}"`,
        violatingResources: [{ resourceLogicalId: v.resource, templatePath, locations: [] }],
      }));
    });
    return { success: violations.length === 0, violations };
  }
}
