/**
 * `npm run build`: compiles the TypeScript into dist/ with esbuild (a dev dependency).
 * - dist/shadowplug-agent.mjs: the device agent, one self-contained file (every package bundled)
 *   that runs with a plain `node` and no node_modules; dist/shadowplug-agent.packages.json lists
 *   the packages inside it, which are the device's runtime dependencies.
 * - dist/cli/<build>/: the whole CLI for use in a clone, packages left to node_modules, split in
 *   chunks so `--help` loads no SDK, and the sandbox's agent worker thread (agent-worker.mjs); dist/cli/current.json names the build and the source files
 *   it was made from (bin/shadowplug.mjs rebuilds when one is newer).
 * Plain JavaScript so it runs before anything is compiled.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const AGENT_BUNDLE = join(DIST, 'shadowplug-agent.mjs');
export const CLI_DIR = join(DIST, 'cli');
/** The lowest Node the project supports (package.json engines). */
export const NODE_TARGET = 'node20.19';

// ESM output still has CommonJS packages inside (mqtt's dependencies) that call require().
/** A name no other build running at the same time uses (test processes build concurrently). */
const unique = () => `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

function writeAtomic(path, text) {
  const tmp = `${path}.${unique()}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const REQUIRE_SHIM = "import { createRequire as __spCreateRequire } from 'node:module'; const require = __spCreateRequire(import.meta.url);";

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch (err) {
    throw new Error('esbuild is not installed: run `npm ci` (it is a dev dependency) before `npm run build`', { cause: err });
  }
}

/** Top-level package names among a metafile's inputs (`@scope/name` or `name`). */
export function packagesOf(metafile) {
  const names = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) names.add(m[1]);
  }
  return [...names].sort();
}

export async function buildAgent() {
  const esbuild = await loadEsbuild();
  mkdirSync(DIST, { recursive: true });
  const tmp = `${AGENT_BUNDLE}.${unique()}.tmp`;
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'bin/shadowplug-agent.ts')],
    outfile: tmp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    minify: true,
    // Logged errors name their class (`TplinkAuthenticationError`, not a minified `Ri`).
    keepNames: true,
    legalComments: 'eof',
    metafile: true,
    banner: { js: `#!/usr/bin/env node\n${REQUIRE_SHIM}` },
    logLevel: 'warning',
  });
  renameSync(tmp, AGENT_BUNDLE);
  const packages = packagesOf(result.metafile);
  writeAtomic(join(DIST, 'shadowplug-agent.packages.json'), JSON.stringify(packages, null, 2) + '\n');
  return { file: AGENT_BUNDLE, bytes: statSync(AGENT_BUNDLE).size, packages };
}

/** Builds the CLI into a fresh directory, then points current.json at it (safe with concurrent builds). */
export async function buildCli() {
  const esbuild = await loadEsbuild();
  const id = `${Date.now().toString(36)}-${unique()}`;
  const outdir = join(CLI_DIR, id);
  const startedAt = Date.now();
  const result = await esbuild.build({
    // The sandbox's agent worker thread is an entry of its own, beside the CLI (sandbox/agent-threads.ts).
    entryPoints: [join(ROOT, 'bin/shadowplug.ts'), join(ROOT, 'sandbox/agent-worker.ts')],
    entryNames: '[name]',
    outdir,
    bundle: true,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: NODE_TARGET,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(ROOT, join(process.cwd(), p)));
  const current = { id, entry: `${id}/shadowplug.mjs`, builtAt: startedAt, inputs: [...inputs, 'package.json'] };
  writeAtomic(join(CLI_DIR, 'current.json'), JSON.stringify(current, null, 1) + '\n');
  removeOldBuilds(id);
  return join(CLI_DIR, current.entry);
}

/** Old builds a running process may still load chunks from are kept for ten minutes. */
function removeOldBuilds(keep) {
  for (const name of readdirSync(CLI_DIR)) {
    const path = join(CLI_DIR, name);
    if (name === keep || name === 'current.json' || name.endsWith('.tmp')) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 600_000) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another build removed it first.
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const ifPossible = process.argv.includes('--if-possible');
  try {
    const agent = await buildAgent();
    await buildCli();
    console.log(`built ${relative(ROOT, agent.file)} (${(agent.bytes / 1024).toFixed(0)} KiB; packages: ${agent.packages.join(', ')}) and dist/cli/`);
  } catch (err) {
    // `npm ci --omit=dev` has no esbuild: `prepare` must not fail the install for that.
    if (ifPossible && err instanceof Error && err.message.startsWith('esbuild is not installed')) {
      console.warn(`shadowplug: skipped the build (${err.message})`);
    } else {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    }
  }
}
