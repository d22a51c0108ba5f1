/**
 * The page's files: HTML, CSS and the script, read from sandbox/dashboard/page/ once at start.
 * The script is written in TypeScript and its types are stripped here with esbuild (which tsx,
 * the CLI's runner, already brings), so the page needs no build step and no bundler: one file,
 * no imports at run time, nothing from the internet.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DashboardAssetError } from './errors';

export interface Asset {
  type: string;
  body: Buffer;
}

export const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'page');

async function read(name: string): Promise<string> {
  try {
    return await readFile(join(PAGE_DIR, name), 'utf8');
  } catch (err) {
    throw new DashboardAssetError(join(PAGE_DIR, name), err);
  }
}

/** Path → asset, for the server to answer GETs from memory. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const [html, css, source, icon] = await Promise.all([read('index.html'), read('style.css'), read('app.ts'), read('favicon.svg')]);
  let script: string;
  try {
    const { transform } = await import('esbuild');
    script = (await transform(source, { loader: 'ts', target: 'es2022', format: 'esm', sourcefile: 'app.ts' })).code;
  } catch (err) {
    throw new DashboardAssetError('compiling app.ts', err);
  }
  return new Map<string, Asset>([
    ['/', { type: 'text/html; charset=utf-8', body: Buffer.from(html) }],
    ['/style.css', { type: 'text/css; charset=utf-8', body: Buffer.from(css) }],
    ['/app.js', { type: 'text/javascript; charset=utf-8', body: Buffer.from(script) }],
    ['/favicon.svg', { type: 'image/svg+xml', body: Buffer.from(icon) }],
  ]);
}
