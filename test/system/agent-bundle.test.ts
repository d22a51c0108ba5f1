/**
 * The installed agent: `npm run build`'s dist/shadowplug-agent.mjs copied alone into an empty
 * directory (no node_modules anywhere above it) and run with a plain `node`, as on a device:
 * --version, --help, and a real sync against the sandbox over mutual TLS. SHADOWPLUG_TEST_NODE
 * names another Node to run it with (.ci/run passes the lowest supported one, 20.19.0).
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentArgs } from '../../sandbox/banner';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { REPO_ROOT } from '../helpers/sandbox-harness';

const NODE = process.env.SHADOWPLUG_TEST_NODE || process.execPath;
const NODE_VERSION = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim();
const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Runtime dependencies of the CLI alone: `shadowplug publish --kms-key-id` signs with KMS; a device only verifies. */
const CLI_ONLY = ['@aws-sdk/client-kms'];

function run(file: string, args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe(`the agent as one installed file, run with plain node ${NODE_VERSION}`, () => {
  let work: string;
  let installed: string;
  let built: { file: string; bytes: number; packages: string[] };

  beforeAll(async () => {
    const script = `const m = await import(${JSON.stringify(join(REPO_ROOT, 'scripts/build.mjs'))}); console.log(JSON.stringify(await m.buildAgent()));`;
    const r = await run(process.execPath, ['--input-type=module', '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    built = JSON.parse(r.stdout) as typeof built;
    work = mkdtempSync(join(tmpdir(), 'agent-install-'));
    mkdirSync(join(work, 'opt'));
    installed = join(work, 'opt', 'shadowplug-agent.mjs');
    copyFileSync(built.file, installed);
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is one file of at most 1.5 MB with no node_modules to find above it', () => {
    expect(built.bytes).toBe(statSync(installed).size);
    expect(built.bytes).toBeLessThanOrEqual(1.5 * 1024 * 1024);
    for (let dir = dirname(installed); dir !== dirname(dir); dir = dirname(dir)) expect(existsSync(join(dir, 'node_modules')), dir).toBe(false);
  });

  it("holds exactly the package's runtime dependencies the device needs, none of the CLI-only ones (publish's KMS client) and none of the dev ones", () => {
    const direct = built.packages.filter((p) => p in PACKAGE.dependencies || p in PACKAGE.devDependencies || CLI_ONLY.includes(p));
    expect(direct.sort()).toEqual(Object.keys(PACKAGE.dependencies).filter((d) => !CLI_ONLY.includes(d)).sort());
  });

  it('prints its version and its help', async () => {
    const version = await run(NODE, [installed, '--version'], { cwd: work });
    expect(version).toMatchObject({ code: 0, stdout: `${PACKAGE.version}\n` });
    const help = await run(NODE, [installed, '--help'], { cwd: work });
    expect(help.code).toBe(0);
    for (const flag of ['--endpoint', '--thing-name', '--credential-endpoint', '--config', '--once']) expect(help.stdout).toContain(flag);
  });

  describe('against the sandbox (external agent process over mutual TLS)', () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
      sandbox = await startSandbox({ dir: join(work, '.sandbox'), agents: false });
    }, 60_000);
    afterAll(async () => {
      await sandbox?.close();
    });

    it('installs and verifies the uploaded file, reports it and itself, and logs only JSON lines', async () => {
      const thing = sandbox.info.things[0]!;
      const uploaded = await sandbox.upload('firmware.bin', 'bytes for the installed agent');
      const args = agentArgs(sandbox.info, work, thing).slice(1); // without the `agent` subcommand
      const r = await run(NODE, [installed, ...args, '--once', '--json'], { cwd: work });
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(join(thing.dest, 'firmware.bin'), 'utf8')).toBe('bytes for the installed agent');
      await sandbox.waitForReported(thing.name, uploaded.sha256, 5_000);
      const reported = ((await sandbox.shadow(thing.name)) as { state: { reported: Record<string, Record<string, string>> } }).state.reported;
      expect(reported.s3).toMatchObject({ hash: uploaded.sha256 });
      expect(reported.agent).toMatchObject({ version: PACKAGE.version, node: NODE_VERSION, platform: `${process.platform}-${process.arch}` });
      // One JSON object per line: Node's multi-line warnings (the AWS SDK's notice) go through the logger.
      const lines = r.stderr.trim().split('\n');
      for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
      expect(lines.some((l) => (JSON.parse(l) as { message: string }).message === 'in sync')).toBe(true);
    }, 60_000);
  });
});
