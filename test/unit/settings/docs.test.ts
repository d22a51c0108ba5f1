import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rewriteSettingsSections } from '../../../core/settings/markdown';
import { ALL_SETTINGS_TABLES } from '../../../scripts/settings-tables';

const DOCS = new URL('../../../docs/', import.meta.url).pathname;
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));

describe('the settings tables in docs/', () => {
  it.each(pages)('docs/%s is current (run `npm run docs:settings` after changing a schema)', (page) => {
    const text = readFileSync(join(DOCS, page), 'utf8');
    expect(rewriteSettingsSections(text, ALL_SETTINGS_TABLES)).toBe(text);
  });

  it('has every generated table in some page', () => {
    const all = pages.map((p) => readFileSync(join(DOCS, p), 'utf8')).join('\n');
    for (const name of Object.keys(ALL_SETTINGS_TABLES)) expect(all).toContain(`<!-- settings:${name} -->`);
  });

  it('notices a stale table', () => {
    const stale = '<!-- settings:button -->\n| old |\n<!-- /settings:button -->';
    expect(rewriteSettingsSections(stale)).not.toBe(stale);
    expect(rewriteSettingsSections(stale)).toContain('`SHADOWPLUG_CLICK_ACTIONS`');
  });
});
