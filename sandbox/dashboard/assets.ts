/**
 * The page's files, read from sandbox/dashboard/page/ once at start (the page is not bundled into
 * the built CLI); the TypeScript script is bundled here with esbuild (tsx brings it), so the page
 * needs no build step and nothing from the internet.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage, ShadowplugError } from '../../core/errors';

/** The page's files could not be read or its script not compiled (a broken checkout). */
const assetError = (what: string, cause: unknown) =>
  new ShadowplugError(`the dashboard page cannot be prepared: ${what}: ${errorMessage(cause)}`, { code: 'DASHBOARD_ASSETS', retryable: false, cause });

export interface Asset {
  type: string;
  body: Buffer;
}

/**
 * The page's directory: next to this module when it runs from source, under the repository root
 * when it runs bundled into the built CLI (dist/cli/<build>/, see scripts/build.mjs).
 */
export function findPageDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  const candidates: string[] = [];
  for (let dir = from, i = 0; i < 6; i++, dir = dirname(dir)) {
    candidates.push(join(dir, 'page'), join(dir, 'sandbox', 'dashboard', 'page'));
  }
  const found = candidates.find((c) => existsSync(join(c, 'index.html')) && existsSync(join(c, 'app.ts')));
  if (!found) throw assetError(`finding sandbox/dashboard/page/ from ${from}`, new Error('not found'));
  return found;
}

async function read(dir: string, name: string): Promise<string> {
  try {
    return await readFile(join(dir, name), 'utf8');
  } catch (err) {
    throw assetError(join(dir, name), err);
  }
}

/** Path → asset, for the server to answer GETs from memory. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const dir = findPageDir();
  const [html, css, icon] = await Promise.all([read(dir, 'index.html'), read(dir, 'style.css'), read(dir, 'favicon.svg')]);
  let script: string;
  try {
    const { build } = await import('esbuild');
    // Bundled for the browser: the page's pure helpers (../plug-format.ts) are inlined, and
    // anything that needs Node fails here rather than in the page.
    const out = await build({ entryPoints: [join(dir, 'app.ts')], bundle: true, write: false, platform: 'browser', format: 'esm', target: 'es2022', logLevel: 'silent' });
    script = out.outputFiles[0]!.text;
  } catch (err) {
    throw assetError(`compiling ${join(dir, 'app.ts')}`, err);
  }
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(html) }],
    ['/style.css', { type: 'text/css; charset=utf-8', body: Buffer.from(css) }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(script) }],
    ['/favicon.svg', { type: 'image/svg+xml', body: Buffer.from(icon) }],
  ]);
}
