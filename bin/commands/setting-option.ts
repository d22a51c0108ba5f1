/**
 * A commander option built from a setting's declaration (flag, description, default), so a flag
 * says the same on every command that has it and its value is checked by the setting's codec.
 */
import { InvalidArgumentError, Option } from 'commander';
import { SettingValueError } from '../../core/settings/errors';
import { defaultText, type Setting } from '../../core/settings/schema';

export function settingOption<T>(s: Setting<T> & { flag: string }, options: { defaultText?: string } = {}): Option {
  const shown = (options.defaultText ?? defaultText(s as Setting<unknown>))?.replace(/`/g, '');
  const option = new Option(s.flag, `${s.description}${shown === undefined ? '' : ` (default ${shown})`}`);
  return option.argParser((value: string) => {
    try {
      return s.parse(value);
    } catch (err) {
      if (err instanceof SettingValueError) throw new InvalidArgumentError(err.problem);
      throw err;
    }
  });
}
