/**
 * Whether settings keep their text for people (descriptions, defaults as shown in the docs). The
 * docs tables, `--help` and the CLI need it; a deployed function only reads its settings. The
 * Lambda bundles define `process.env.SHADOWPLUG_SETTINGS_DOCS` as "omit" (lib/lazy-modules.ts),
 * so the minifier folds `DOCS ? text : NO_TEXT` to the blank and the text stays out of the cold start —
 * while each setting is still declared once, text included. Unbundled code always keeps it.
 */
export const DOCS = process.env.SHADOWPLUG_SETTINGS_DOCS !== 'omit';

/**
 * What a setting's text for people (`type`, `unit`, `range`, `defaultText`, `description`) is in a
 * Lambda bundle: declared as `...(DOCS ? { type: …, description: … } : NO_TEXT)`, so the whole
 * object folds away there, the type and the docs tables still get every field.
 */
export const NO_TEXT = { type: '', description: '' } as const;
