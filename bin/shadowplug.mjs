#!/usr/bin/env node
// Launcher for `npx shadowplug` in a clone: runs the compiled CLI from dist/cli/ (made by
// `npm run build`, which `npm ci` runs as `prepare`), rebuilding it first when a source file it
// was made from has changed since. No TypeScript compiler is loaded at run time.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cliDir = `${root}dist/cli/`;

/** The built entry when every source it was made from is older than the build, else undefined. */
function freshEntry() {
  let current;
  try {
    current = JSON.parse(readFileSync(`${cliDir}current.json`, 'utf8'));
    for (const input of current.inputs) if (statSync(root + input).mtimeMs > current.builtAt) return undefined;
  } catch {
    return undefined; // never built, or a source was removed or renamed
  }
  return `${cliDir}${current.entry}`;
}

let entry = freshEntry();
if (!entry) {
  const { buildCli } = await import('../scripts/build.mjs');
  try {
    entry = await buildCli();
  } catch (err) {
    console.error(`shadowplug: cannot build the CLI: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  }
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(entry).href);
