/**
 * Synthesises the real app (lib/app.ts, with cdk-nag) into a temporary directory, as `cdk synth`
 * would with cdk.json's context plus overrides. Bundling costs seconds: call once per test file
 * (beforeAll) and share the result; pass `bundle: false` when the test does not look at the code.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/constructs/bundled-function';
import type { ShadowplugStack } from '../../lib/shadowplug-stack';

export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

export interface Synthesis {
  template: Template;
  /** The raw template, for walking every policy document. */
  json: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>; Outputs: Record<string, unknown> };
  stack: ShadowplugStack;
  outdir: string;
  /** The cloud assembly's validation report (cdk-nag and CloudFormation validation). */
  validationReport: ValidationReport;
  close(): void;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string }[];
    suppressedViolations: { ruleName: string; acknowledgedId: string; reason: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

export function synthesize(overrides: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): Synthesis {
  const outdir = mkdtempSync(join(tmpdir(), 'shadowplug-infra-'));
  // The bundles leave @aws-sdk/* to the Lambda runtime; this link stands in for it when a test loads them.
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  const context: Record<string, unknown> = { ...CDK_JSON_CONTEXT, ...overrides };
  for (const [key, value] of Object.entries(context)) if (value === undefined) delete context[key];
  if (options.bundle === false) context['aws:cdk:bundling-stacks'] = [];
  try {
    const { app, stack } = createApp({ context, outdir });
    const assembly = app.synth();
    const json = assembly.getStackArtifact(stack.artifactId).template as Synthesis['json'];
    return {
      template: Template.fromJSON(json),
      json,
      stack,
      outdir,
      validationReport: JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport,
      close: () => rmSync(outdir, { recursive: true, force: true }),
    };
  } catch (err) {
    rmSync(outdir, { recursive: true, force: true });
    throw err;
  }
}

/** The one resource of a type whose logical id starts with `prefix`. */
export function resourceId(synthesis: Synthesis, type: string, prefix: string): string {
  const ids = Object.entries(synthesis.json.Resources)
    .filter(([id, r]) => r.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} named ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0] as string;
}

/** All statements of the IAM policies attached to a role. */
export function roleStatements(synthesis: Synthesis, roleId: string): Record<string, unknown>[] {
  return Object.values(synthesis.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);
}
