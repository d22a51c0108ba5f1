/**
 * The agent's options from command-line flags and an optional JSON config file, validated through
 * the agent's settings table (core/settings/agent.ts). Flags are kebab-case; the seed program's
 * snake_case spellings are accepted as hidden aliases. Light on purpose (no SDK, no MQTT): the
 * CLI imports it to build `--help`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AGENT_SETTINGS, type AgentSettingName } from '../core/settings/agent';
import { attempt, coerceValue } from '../core/settings/schema';
import type { LogLevel } from '../core/logger';
import type { AgentOptions } from './agent';
import { AgentConfigError } from './errors';
import { resolveTplinkCredentials } from './tplink-credentials';
import type { Credentials } from '../core/tplink/klap-crypto';

export type OptionName = AgentSettingName;

export interface FlagSpec {
  name: OptionName;
  /** Commander flag syntax, e.g. `--ca-file <path>`. */
  flag: string;
  help: string;
  /** Other spellings accepted (the seed program's snake_case). */
  aliases?: readonly string[];
}

export const AGENT_FLAGS: FlagSpec[] = Object.entries(AGENT_SETTINGS).map(([name, s]) => ({
  name: name as OptionName,
  flag: s.flag,
  help: `${s.description}${'defaultText' in s && s.defaultText !== 'required' && s.defaultText !== undefined ? ` (default ${s.defaultText.replace(/`/g, '')})` : ''}`,
  ...('aliases' in s ? { aliases: s.aliases } : {}),
}));

export interface AgentCliOptions extends AgentOptions {
  once: boolean;
  json: boolean;
  logLevel: LogLevel;
}

const camel = (s: string): string => s.replace(/[-_]([a-z0-9])/gi, (_, c: string) => c.toUpperCase());

/** The option a flag or config key names (`ca_file`, `ca-file`, `caFile`, `--root-ca` ...), if any. */
export function optionNameOf(spelling: string): OptionName | undefined {
  const bare = spelling.replace(/^--/, '');
  for (const spec of AGENT_FLAGS) {
    if (camel(bare) === spec.name) return spec.name;
    if (spec.aliases?.some((a) => a.replace(/^--/, '') === bare)) return spec.name;
  }
  return undefined;
}

/** A flag's or config key's value through its setting; problems name the flag. */
function read<K extends OptionName>(name: K, value: unknown): ReturnType<(typeof AGENT_SETTINGS)[K]['parse']> {
  const s = AGENT_SETTINGS[name];
  return attempt(
    () => coerceValue(s as never, value),
    (problem, cause) => {
      throw new AgentConfigError(`${s.flag.split(' ')[0]}: ${problem}`, { cause });
    },
  ) as ReturnType<(typeof AGENT_SETTINGS)[K]['parse']>;
}

type Checked = AgentOptions & Required<Pick<AgentOptions, 'port' | 'shadowProperty' | 'maxSize'>>;

/**
 * Options given in code (the CLI, the sandbox, tests) checked by the same settings as the flags,
 * with the schema's defaults filled in.
 */
export function checkAgentOptions(o: AgentOptions): Checked {
  for (const name of ['endpoint', 'thingName', 'dest'] as const) if (o[name] === undefined) throw new AgentConfigError(`${AGENT_SETTINGS[name].flag.split(' ')[0]} is required`);
  const names = ['endpoint', 'port', 'thingName', 'shadowProperty', 'shadowName', 'maxSize', 'dest', 'plugPollMs', 'maxRequestAgeMs'] as const;
  for (const name of names) if (o[name] !== undefined) read(name, o[name]);
  return { ...o, port: o.port ?? AGENT_SETTINGS.port.default, shadowProperty: o.shadowProperty ?? AGENT_SETTINGS.shadowProperty.default, maxSize: o.maxSize ?? AGENT_SETTINGS.maxSize.default };
}

/** `1048576`, `500MiB`, `2GB`, `1.5g` → bytes. */
export function parseSize(value: unknown): number {
  return read('maxSize', value);
}

/** Read a JSON config file into option values, paths resolved against the file's directory. */
export async function readConfigFile(path: string, read: (p: string) => Promise<string> = (p) => readFile(p, 'utf8')): Promise<Partial<Record<OptionName, unknown>>> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    throw new AgentConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AgentConfigError(`config file ${path} must hold a JSON object`);
  const out: Partial<Record<OptionName, unknown>> = {};
  const base = dirname(resolve(path));
  for (const [key, value] of Object.entries(parsed)) {
    const name = optionNameOf(key);
    if (!name || name === 'config') throw new AgentConfigError(`config file ${path}: unknown option ${JSON.stringify(key)}`);
    const isPath = name === 'cert' || name === 'key' || name === 'caFile' || name === 'dest' || name === 'stateDir' || name === 'tplinkCredentialsFile';
    out[name] = isPath && typeof value === 'string' && !isAbsolute(value) ? resolve(base, value) : value;
  }
  return out;
}

/** Values of the settings that declare an environment variable (unset or empty: absent). */
function fromEnvironment(env: Record<string, string | undefined>): Partial<Record<OptionName, unknown>> {
  const out: Partial<Record<OptionName, unknown>> = {};
  for (const [name, s] of Object.entries(AGENT_SETTINGS)) {
    const value = 'env' in s && s.env !== undefined ? env[s.env] : undefined;
    if (value !== undefined && value !== '') out[name as OptionName] = value;
  }
  return out;
}

/**
 * Validated options from flag values (already keyed by option name), the environment (the
 * settings that declare a variable) and, when `config` is given, a config file; a flag wins over
 * the environment, which wins over the file.
 */
export async function resolveAgentOptions(
  flags: Partial<Record<OptionName, unknown>>,
  readText?: (p: string) => Promise<string>,
  env: Record<string, string | undefined> = process.env,
  readCredentials?: (path: string) => Promise<Credentials>,
): Promise<AgentCliOptions> {
  const fromFile = flags.config !== undefined ? await readConfigFile(read('config', flags.config), readText) : {};
  const v: Partial<Record<OptionName, unknown>> = { ...fromFile, ...fromEnvironment(env) };
  for (const [k, value] of Object.entries(flags)) if (value !== undefined) v[k as OptionName] = value;

  const missing = (['endpoint', 'cert', 'key', 'thingName', 'dest'] as const).filter((n) => v[n] === undefined);
  if (missing.length > 0) {
    const flagsOf = missing.map((n) => AGENT_SETTINGS[n].flag.split(' ')[0]);
    throw new AgentConfigError(`missing required option${missing.length > 1 ? 's' : ''}: ${flagsOf.join(', ')}`);
  }
  const endpoint = read('endpoint', v.endpoint);
  const explicitPort = /^(\[[^\]]+\]|[^:]+):\d+$/.test(String(v.endpoint).trim());
  if (explicitPort && v.port !== undefined && read('port', v.port) !== endpoint.port) {
    throw new AgentConfigError(`--endpoint ${String(v.endpoint)} and --port ${String(v.port)} disagree: give the port once`);
  }
  const optional = ['caFile', 'clientId', 'credentialEndpoint', 'shadowProperty', 'shadowName', 'region', 's3Endpoint', 'onUpdate', 'stateDir', 'maxSize', 'plugs', 'plugPollMs', 'maxRequestAgeMs'] as const;
  const given: Partial<AgentOptions> = {};
  for (const name of optional) if (v[name] !== undefined) Object.assign(given, { [name]: read(name, v[name]) });
  const optionalText = (name: 'tplinkCredentialsFile' | 'tplinkUsername' | 'tplinkPassword') => (v[name] === undefined ? undefined : read(name, v[name]));
  const tplinkCredentials = await resolveTplinkCredentials(
    { file: optionalText('tplinkCredentialsFile'), username: optionalText('tplinkUsername'), password: optionalText('tplinkPassword') },
    readCredentials,
  );
  if (tplinkCredentials) given.tplinkCredentials = tplinkCredentials;
  return {
    endpoint: endpoint.host,
    port: explicitPort || v.port === undefined ? endpoint.port : read('port', v.port),
    cert: read('cert', v.cert),
    key: read('key', v.key),
    thingName: read('thingName', v.thingName),
    dest: read('dest', v.dest),
    ...given,
    once: v.once === undefined ? false : read('once', v.once),
    json: v.json === undefined ? false : read('json', v.json),
    logLevel: v.logLevel === undefined ? 'info' : read('logLevel', v.logLevel),
  };
}
