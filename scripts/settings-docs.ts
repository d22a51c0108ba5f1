/**
 * `npm run docs:settings`: rewrites the settings tables in docs/*.md from the schemas
 * (core/settings/markdown.ts). test/unit/settings/docs.test.ts fails when they are stale.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rewriteSettingsSections } from '../core/settings/markdown';
import { ALL_SETTINGS_TABLES } from './settings-tables';

const docs = new URL('../docs/', import.meta.url).pathname;
for (const name of readdirSync(docs).filter((f) => f.endsWith('.md'))) {
  const path = join(docs, name);
  const before = readFileSync(path, 'utf8');
  const after = rewriteSettingsSections(before, ALL_SETTINGS_TABLES);
  if (after !== before) {
    writeFileSync(path, after);
    console.log(`rewrote docs/${name}`);
  }
}
