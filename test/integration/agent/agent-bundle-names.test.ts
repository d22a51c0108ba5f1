/**
 * The bundled agent logs errors by their class name (`"name":"TplinkAuthenticationError"`), which
 * a minified bundle would shorten to two letters unless esbuild keeps names.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function buildAgent(): Promise<{ file: string }> {
  const script = `const m = await import(${JSON.stringify(join(REPO_ROOT, 'scripts/build.mjs'))}); console.log(JSON.stringify(await m.buildAgent()));`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as { file: string }),
    );
  });
}

describe('the agent bundle', () => {
  it('keeps the error classes’ names, so logs say which error it was', async () => {
    const { file } = await buildAgent();
    const bundle = readFileSync(file, 'utf8');
    for (const name of ['AgentError', 'TplinkAuthenticationError', 'TplinkTimeoutError', 'PlugDesiredError']) {
      expect(bundle, name).toContain(`"${name}"`);
    }
  }, 150_000);
});
