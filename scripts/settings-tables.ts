/** Every generated settings table: the core schemas' and the sandbox command's flags. */
import { flagTable, SETTINGS_TABLES } from '../core/settings/markdown';
import { SANDBOX_SETTINGS } from '../sandbox/cli-settings';

export const ALL_SETTINGS_TABLES: Record<string, () => string> = {
  ...SETTINGS_TABLES,
  sandbox: () => flagTable(SANDBOX_SETTINGS),
};
