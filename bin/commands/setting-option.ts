/**
 * A commander option built from a setting's declaration (flag, description, default), so a flag
 * says the same on every command that has it and its value is checked by the setting's codec.
 */
import { InvalidArgumentError, Option } from 'commander';
import { defaultText, SettingValueError, type Setting } from '../../core/settings/schema';

/** The option with the setting's help text and default shown; the value is left as typed. */
export function describedOption<T>(s: Setting<T> & { flag: string }, options: { defaultText?: string; useDefault?: boolean } = {}): Option {
  if (options.useDefault && s.default !== undefined) return new Option(s.flag, s.description).default(s.default);
  const shown = s.type === 'switch' ? undefined : (options.defaultText ?? defaultText(s as Setting<unknown>))?.replace(/`/g, '');
  return new Option(s.flag, `${s.description}${shown === undefined ? '' : ` (default ${shown})`}`);
}

/** The option, its value read by the setting's codec (a bad value: commander's usage error naming the flag). */
export function settingOption<T>(s: Setting<T> & { flag: string }, options: { defaultText?: string; useDefault?: boolean } = {}): Option {
  return describedOption(s, options).argParser((value: string) => {
    try {
      return s.parse(value);
    } catch (err) {
      if (err instanceof SettingValueError) throw new InvalidArgumentError(err.problem);
      throw err;
    }
  });
}
