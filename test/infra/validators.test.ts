/**
 * Outside validators over the default template and every documented deploy command: AWS's
 * cfn-lint (pinned in requirements/validators.txt, installed into .venv by npm test's pretest) for
 * every supported region, and cfn-guard with the Control Tower proactive controls
 * (@cdklabs/cdk-validator-cfnguard) with no finding left but those acknowledged in
 * lib/constructs/guard-acknowledgements.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Validations } from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/constructs/bundled-function';
import { SUPPORTED_REGIONS, UNSUPPORTED_REGIONS } from '../../lib/limits/regions';
import { DOCUMENTED_DEPLOY_COMMANDS } from './documented-commands';
import { CDK_JSON_CONTEXT, type ValidationReport } from './synth';

const run = promisify(execFile);
const CFN_LINT = join(PROJECT_ROOT, '.venv/bin/cfn-lint');
const PINNED = /^cfn-lint==(\S+)$/m.exec(readFileSync(join(PROJECT_ROOT, 'requirements/validators.txt'), 'utf8'))?.[1];

const VARIANTS: [string, Record<string, string>][] = [['cdk.json defaults', {}], ...DOCUMENTED_DEPLOY_COMMANDS.map((c) => [`${c.file}: ${c.line}`, c.context] as [string, Record<string, string>])];

interface Synthesized {
  name: string;
  templatePath: string;
  report: ValidationReport;
}

const outdirs: string[] = [];
const synthesized: Synthesized[] = [];

/** Synthesizes with the guard plugin beside cdk-nag and the limit checks; a finding not acknowledged fails the synth. */
function synthesizeGuarded(name: string, overrides: Record<string, string>): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'shadowplug-validators-'));
  outdirs.push(outdir);
  const { app, stack } = createApp({ context: { ...CDK_JSON_CONTEXT, ...overrides, 'aws:cdk:bundling-stacks': [] }, outdir });
  Validations.of(app).addPlugins(new CfnGuardValidator({ controlTowerRulesEnabled: true }));
  const assembly = app.synth();
  return {
    name,
    templatePath: join(assembly.directory, assembly.getStackArtifact(stack.artifactId).templateFile),
    report: JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport,
  };
}

beforeAll(() => {
  for (const [name, context] of VARIANTS) synthesized.push(synthesizeGuarded(name, context));
}, 600_000);

afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('cfn-guard (Control Tower proactive controls)', () => {
  it('leaves no finding unacknowledged in any variant, and acknowledges only the reasoned ones', () => {
    expect(synthesized.map((s) => s.name)).toEqual(VARIANTS.map(([name]) => name));
    for (const s of synthesized) {
      const guard = s.report.pluginReports.find((p) => p.pluginName === 'cdk-validator-cfnguard');
      expect(guard?.violations, s.name).toEqual([]);
      const acknowledged = new Set(guard?.suppressedViolations.map((v) => v.ruleName));
      expect([...acknowledged].sort(), s.name).toEqual([
        'cloudwatch_log_group_encrypted_check',
        'cloudwatch_log_group_retention_period_check',
        'lambda_inside_vpc_check',
        's3_bucket_default_encryption_kms_check',
        's3_bucket_logging_enabled_check',
        's3_bucket_object_lock_enabled_check',
        's3_bucket_versioning_enabled_check',
        's3_event_notifications_enabled_check',
      ]);
      for (const v of guard?.suppressedViolations ?? []) expect(v.reason.length, v.ruleName).toBeGreaterThan(40);
    }
  });
});

describe('cfn-lint', () => {
  it(`is the pinned version (${PINNED ?? '?'}) from requirements/validators.txt, in .venv`, async () => {
    expect(existsSync(CFN_LINT)).toBe(true);
    const { stdout } = await run(CFN_LINT, ['--version']);
    expect(stdout.trim()).toBe(`cfn-lint ${PINNED}`);
  });

  it('finds no error in any variant, in any supported region', async () => {
    const templates = synthesized.map((s) => s.templatePath);
    const result = await run(CFN_LINT, ['--format', 'parseable', '--regions', ...SUPPORTED_REGIONS, '--', ...templates]).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
    );
    // Exit status bits: 2 errors, 4 warnings, 8 informational. Only errors stop a deploy.
    const errors = result.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    expect(result.code & 2).toBe(0);
  }, 120_000);

  it('says why the other regions are not supported (IoT role aliases do not exist there)', async () => {
    const [template] = synthesized.map((s) => s.templatePath);
    const result = await run(CFN_LINT, ['--format', 'parseable', '--regions', ...UNSUPPORTED_REGIONS, '--', template as string]).then(
      (r) => r.stdout,
      (err: { stdout: string }) => err.stdout,
    );
    for (const region of UNSUPPORTED_REGIONS) expect(result).toContain(`Resource type 'AWS::IoT::RoleAlias' does not exist in '${region}'`);
  }, 120_000);
});
