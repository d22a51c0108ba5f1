/**
 * Bundles a Lambda handler the way the stack's NodejsFunction does (lib/constructs/bundled-function.ts):
 * esbuild, platform node, target node22, ESM, minified, `module` before `main`, the `require` shim
 * banner, the same defines (settings' docs text folded away), `@aws-sdk/*` left to the runtime,
 * lazily loaded modules in files of their own. Used by the bundle test and the bundle benchmark.
 */
import { build, type BuildOptions } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUTTON_LAZY_MODULES, LAMBDA_BUNDLE_DEFINE, lazyModuleFile } from '../../lib/lazy-modules';

/** The same banner as the stack's (a bundled CommonJS dependency may call `require`). */
export const REQUIRE_SHIM =
  "import { createRequire as __shadowplugCreateRequire } from 'node:module'; const require = __shadowplugCreateRequire(import.meta.url);";

const COMMON: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  define: { ...LAMBDA_BUNDLE_DEFINE },
};

/** The modules each handler loads on demand, as the stack bundles them (files of their own beside index.mjs). */
const LAZY: Record<string, readonly string[]> = { 'lambda/button-click.ts': BUTTON_LAZY_MODULES };

/** Writes `<outdir>/index.mjs` (and its lazily loaded files beside it) and returns the handler's path. */
export async function bundleHandler(entry: string, outdir: string): Promise<string> {
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, 'index.mjs');
  const lazy = LAZY[entry] ?? [];
  await build({ ...COMMON, entryPoints: [entry], outfile, banner: { js: REQUIRE_SHIM }, external: ['@aws-sdk/*', ...lazy.map((e) => `./${lazyModuleFile(e)}`)] });
  for (const e of lazy) await build({ ...COMMON, entryPoints: [e], outfile: join(outdir, lazyModuleFile(e)), external: ['@aws-sdk/*'] });
  return outfile;
}

/** The source files a module's bundle is made of (paths relative to the project). */
export async function bundleInputs(entry: string): Promise<string[]> {
  const result = await build({ ...COMMON, entryPoints: [entry], write: false, outdir: 'out', metafile: true, external: ['@aws-sdk/*'] });
  return Object.keys(result.metafile.inputs);
}

/** The lazily loaded files bundled beside a handler. */
export function lazyFiles(entry: string, outdir: string): string[] {
  return (LAZY[entry] ?? []).map((e) => join(outdir, lazyModuleFile(e)));
}
