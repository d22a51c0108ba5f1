/**
 * What the subcommands share: one way to report a failure, and the options that mean the same in
 * each of them, some built from a setting's declaration. Light on purpose (every `--help` loads it).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CLICK_TYPES } from '../../core/button/click';
import { defaultText, SettingValueError, type Setting } from '../../core/settings/schema';

/** `shadowplug <command>: <first line>` on stderr (and `{ error }` on stdout under --json), exit status 1. */
export async function reportFailure(command: string, err: unknown, json = false): Promise<void> {
  const { errorMessage, ShadowplugError } = await import('../../core/errors');
  const message = errorMessage(err);
  if (json) console.log(JSON.stringify({ error: err instanceof ShadowplugError ? err.toJSON() : { name: 'Error', message } }));
  console.error(`shadowplug ${command}: ${message.split('\n')[0]}`);
  process.exitCode = 1;
}

/** `--version` on every command and subcommand, not only the top one (`shadowplug agent --version`). */
export function addVersionEverywhere(command: Command, version: string): void {
  command.version(version, '-V, --version', 'print the shadowplug version');
  for (const sub of command.commands) addVersionEverywhere(sub, version);
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

/** How a release is signed, as `publish` and `sandbox upload` both take it (declared once, here). */
export function releaseOptions(signingKeyHelp: string): { signingKey: Option; release: Option; expires: Option } {
  return {
    signingKey: new Option('--signing-key <pem>', signingKeyHelp),
    release: new Option('--release <n>', "release number (default: one more than the key's last, allocated atomically)").argParser(positiveInt),
    expires: new Option('--expires <duration|time>', 'when devices stop accepting this release: 30d, 12h, 90m or an ISO time').default('30d'),
  };
}

export interface ReleaseFlags {
  signingKey?: string;
  release?: number;
  expires: string;
}

/** A repeatable option's values, in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const clickTypeOption = (): Option =>
  new Option('--type <type>', 'click type').choices([...CLICK_TYPES, ...CLICK_TYPES.map((t) => t.toLowerCase())]).default('SINGLE');

/** `--tplink-username/--tplink-password`, as on `sandbox` and `agent`; `--username/--password` are hidden aliases. */
export function tplinkAccountOptions(help: { username: string; password: string }): Option[] {
  return [
    new Option('--tplink-username <email>', help.username),
    new Option('--tplink-password <password>', help.password),
    new Option('--username <email>').hideHelp(),
    new Option('--password <password>').hideHelp(),
  ];
}

export interface TplinkAccountFlags {
  tplinkUsername?: string;
  tplinkPassword?: string;
  username?: string;
  password?: string;
}

/** The account those flags give (a missing half from `defaults`, else empty); undefined when none is given and no defaults. */
export function tplinkAccount(o: TplinkAccountFlags, defaults?: { username: string; password: string }): { username: string; password: string } | undefined {
  const username = o.tplinkUsername ?? o.username;
  const password = o.tplinkPassword ?? o.password;
  if (username === undefined && password === undefined && !defaults) return undefined;
  return { username: username ?? defaults?.username ?? '', password: password ?? defaults?.password ?? '' };
}

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
