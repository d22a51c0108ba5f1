/**
 * Bundles a Lambda handler the way the stack's NodejsFunction does (lib/constructs/bundled-function.ts):
 * esbuild, platform node, target node22, ESM, minified, `module` before `main`, the `require` shim
 * banner, `@aws-sdk/*` left to the runtime. Used by the bundle test and the bundle benchmark.
 */
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The same banner as the stack's (a bundled CommonJS dependency may call `require`). */
export const REQUIRE_SHIM =
  "import { createRequire as __shadowplugCreateRequire } from 'node:module'; const require = __shadowplugCreateRequire(import.meta.url);";

/** Writes `<outdir>/index.mjs` and returns its path. */
export async function bundleHandler(entry: string, outdir: string): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'index.mjs');
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    banner: { js: REQUIRE_SHIM },
    external: ['@aws-sdk/*'],
    logLevel: 'warning',
  });
  return outfile;
}
