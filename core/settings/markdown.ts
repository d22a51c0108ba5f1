/** The docs' settings tables, rendered from the schemas into their marked sections (`<!-- settings:<name> -->` … `<!-- /settings:<name> -->`). Pure. */
import { DOCUMENTED_BUTTON_SETTINGS } from '../button/settings-text';
import { OBJECT_SETTINGS } from '../s3/settings';
import { AGENT_SETTINGS } from './agent';
import { envName, settingsOf, type Setting } from './schema';
import { feedsOf, STACK_SETTINGS } from './stack';

const code = (text: string | undefined): string => (text === undefined || text === '' ? '' : `\`${text}\``);
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

const shownDefault = (s: Setting<unknown>): string => s.defaultText ?? (s.default === undefined ? '—' : code(s.format(s.default)));

const described = (s: Setting<unknown>): string => s.description ?? '';

function limits(s: Setting<unknown>): string {
  const range = s.range === undefined ? '' : `${s.range[0]}–${s.range[1]}`;
  return [range, s.unit].filter((p) => p !== undefined && p !== '').join(' ');
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function functionTable(schema: object): string {
  const keysFeeding = (env: string) =>
    settingsOf(STACK_SETTINGS)
      .filter(([, k]) => feedsOf(k) === env)
      .map(([key]) => code(key))
      .join(', ');
  const rows = settingsOf(schema).map(([name, s]) => [code(envName(name)), code(name), keysFeeding(envName(name)), shownDefault(s), limits(s), described(s)]);
  return table(['Variable', 'Setting', 'Context key', 'Default', 'Range', 'Meaning'], rows);
}

/** Every generated table, by section name. */
export const SETTINGS_TABLES: Record<string, () => string> = {
  stack: () =>
    table(
      ['Key', 'Default', 'Range', 'Sets', 'Meaning'],
      settingsOf(STACK_SETTINGS).map(([key, s]) => [code(key), shownDefault(s), limits(s), code(feedsOf(s)), described(s)]),
    ),
  button: () => functionTable(DOCUMENTED_BUTTON_SETTINGS),
  'object-to-shadow': () => functionTable(OBJECT_SETTINGS),
  agent: () => flagTable(AGENT_SETTINGS, { aliases: true }),
};

/** A command's flags: flag, (seed aliases,) default, meaning. */
export function flagTable(schema: object, options: { aliases?: boolean } = {}): string {
  const rows = settingsOf(schema).map(([, s]) => [
    code(s.flag),
    ...(options.aliases ? [(s.aliases ?? []).map(code).join(', ')] : []),
    s.type === 'switch' ? '' : shownDefault(s),
    limits(s) === '' ? described(s) : `${described(s)} (${limits(s)})`,
  ]);
  return table(['Flag', ...(options.aliases ? ['Seed alias'] : []), 'Default', 'Meaning'], rows);
}

/** `text` with every marked settings section replaced by its current table. */
export function rewriteSettingsSections(text: string, tables: Record<string, () => string> = SETTINGS_TABLES): string {
  return text.replace(/(<!-- settings:([a-z-]+) -->\n)[\s\S]*?(<!-- \/settings:\2 -->)/g, (whole, open: string, name: string, close: string) => {
    const render = tables[name];
    if (render === undefined) throw new Error(`unknown settings section "${name}"`);
    return `${open}${render()}\n${close}`;
  });
}
