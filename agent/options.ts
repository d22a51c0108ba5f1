/**
 * The agent's options: their type in code, and their values from command-line flags and an
 * optional JSON config file, validated through the agent's settings table (core/settings/agent.ts). Flags are kebab-case; the seed program's
 * snake_case spellings are accepted as hidden aliases. Light on purpose (no SDK, no MQTT): the
 * CLI imports it to build `--help`.
 */
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { AGENT_SETTINGS, type AgentSettingName } from '../core/settings/agent';
import { attempt, coerceValue, envName, settingsOf, type Codec } from '../core/settings/schema';
import type { Logger, LogLevel } from '../core/logger';
import type { AgentFs } from './agent-fs';
import type { Timers } from './plug-relay';
import { AgentConfigError } from './errors';
import { refuseReadableByOthers, resolveTplinkCredentials } from './tplink-credentials';
import type { Credentials } from '../core/tplink/klap-crypto';
import { isObject } from '../core/util/guards';

export type OptionName = AgentSettingName;

/** The settings an agent takes in code that have a default or may be left out. */
const OPTIONAL_SETTINGS = ['port', 'caFile', 'clientId', 'credentialEndpoint', 'shadowProperty', 'shadowName', 'region', 's3Endpoint', 'onUpdate', 'stateDir', 'maxSize', 'plugs', 'plugPollMs', 'maxRequestAgeMs', 'jobs', 'trustedKey'] as const;
type OptionalSetting = (typeof OPTIONAL_SETTINGS)[number];

type SettingValue<K extends AgentSettingName> = (typeof AGENT_SETTINGS)[K] extends Codec<infer T> ? T : never;

/**
 * The agent's options in code: the settings' values as core/settings/agent.ts declares them
 * (`endpoint` is its host; its port is `port`), and tuning that has no flag.
 */
export type AgentOptions = { [K in 'cert' | 'key' | 'thingName' | 'dest']: SettingValue<K> } & { [K in OptionalSetting]?: SettingValue<K> } & {
  endpoint: string;
  logger?: Logger;
  /** Epoch ms; default Date.now (credentials expiry, installedAt). */
  clock?: () => number;
  /** Download retry backoff (default 2 s doubling to 5 min). */
  retry?: { initialMs: number; maxMs: number };
  /** MQTT reconnect backoff (default 1 s doubling to 60 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** Shadow request timeout (default 10 s). */
  requestTimeoutMs?: number;
  credentialsRefreshMarginMs?: number;
  progressIntervalMs?: number;
  /** A download connection silent this long counts as cut and is resumed (default 60 s). */
  downloadIdleTimeoutMs?: number;
  /** Plug connect/request timeouts (the TP-Link client's defaults otherwise). */
  plugTimeouts?: { connectTimeoutMs?: number; requestTimeoutMs?: number };
  /** The TP-Link account for KLAP and AES plugs (never logged; the default credentials are tried after it). */
  tplinkCredentials?: Credentials;
  /** Poll scheduling, replaceable in tests. */
  timers?: Timers;
  /** Job download retries (default 5 attempts, 2 s doubling). */
  jobRetry?: { initialMs: number; maxMs: number; attempts: number };
  /** The file system for downloads and state (default node:fs/promises; tests make it fail). */
  fs?: AgentFs;
  /** The S3 clients' HTTP handler (default one per client): agents sharing a process share one (s3-clients.ts). */
  s3RequestHandler?: S3ClientConfig['requestHandler'];
};

const helpDefault = (text: string | undefined): string => (text === undefined || text === 'required' ? '' : ` (default ${text.replace(/`/g, '')})`);

/** The flags with their help text (a default other than "required" shown, as in the docs' table), for commander. */
export const AGENT_FLAGS = settingsOf(AGENT_SETTINGS).map(([name, s]) => ({
  name: name as OptionName,
  flag: s.flag!,
  help: `${s.description}${helpDefault(s.defaultText ?? (s.default === undefined ? undefined : s.format(s.default)))}`,
  aliases: s.aliases,
  repeatable: s.type === 'repeatable',
}));

export interface AgentCliOptions extends AgentOptions {
  once: boolean;
  json: boolean;
  logLevel: LogLevel;
}

const camel = (s: string): string => s.replace(/[-_]([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
const flagOf = (name: OptionName): string => AGENT_SETTINGS[name].flag.split(' ')[0]!;

/** The option a flag or config key names (`ca_file`, `ca-file`, `caFile`, `--root-ca` ...), if any. */
export function optionNameOf(spelling: string): OptionName | undefined {
  const bare = spelling.replace(/^--/, '');
  const found = settingsOf(AGENT_SETTINGS).find(([name, s]) => camel(bare) === name || s.aliases?.some((a) => a.replace(/^--/, '') === bare));
  return found?.[0] as OptionName | undefined;
}

/** A flag's or config key's value through its setting; problems name the flag. */
function read<K extends OptionName>(name: K, value: unknown): ReturnType<(typeof AGENT_SETTINGS)[K]['parse']> {
  return attempt(
    () => coerceValue(AGENT_SETTINGS[name] as never, value),
    (problem, cause) => {
      throw new AgentConfigError(`${flagOf(name)}: ${problem}`, { cause });
    },
  ) as ReturnType<(typeof AGENT_SETTINGS)[K]['parse']>;
}

type Checked = AgentOptions & Required<Pick<AgentOptions, 'port' | 'shadowProperty' | 'maxSize'>>;

/**
 * Options given in code (the CLI, the sandbox, tests) checked by the same settings as the flags,
 * with the schema's defaults filled in.
 */
export function checkAgentOptions(o: AgentOptions): Checked {
  for (const name of ['endpoint', 'thingName', 'dest'] as const) if (o[name] === undefined) throw new AgentConfigError(`${flagOf(name)} is required`);
  const names = ['endpoint', 'port', 'thingName', 'shadowProperty', 'shadowName', 'maxSize', 'dest', 'plugPollMs', 'maxRequestAgeMs'] as const;
  for (const name of names) if (o[name] !== undefined) read(name, o[name]);
  return { ...o, port: o.port ?? AGENT_SETTINGS.port.default, shadowProperty: o.shadowProperty ?? AGENT_SETTINGS.shadowProperty.default, maxSize: o.maxSize ?? AGENT_SETTINGS.maxSize.default };
}

/** Read a JSON config file into option values, paths resolved against the file's directory. */
export async function readConfigFile(
  path: string,
  read: (p: string) => Promise<string> = (p) => readFile(p, 'utf8'),
  statFile: (p: string) => Promise<{ mode: number }> = stat,
): Promise<Partial<Record<OptionName, unknown>>> {
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
  if (!isObject(parsed)) throw new AgentConfigError(`config file ${path} must hold a JSON object`);
  const out: Partial<Record<OptionName, unknown>> = {};
  const base = dirname(resolve(path));
  for (const [key, value] of Object.entries(parsed)) {
    const name = optionNameOf(key);
    if (!name || name === 'config') throw new AgentConfigError(`config file ${path}: unknown option ${JSON.stringify(key)}`);
    const isPath = name === 'cert' || name === 'key' || name === 'caFile' || name === 'dest' || name === 'stateDir' || name === 'tplinkCredentialsFile' || name === 'trustedKey';
    const absolute = (p: unknown) => (typeof p === 'string' && !isAbsolute(p) ? resolve(base, p) : p);
    out[name] = isPath ? (Array.isArray(value) ? value.map(absolute) : absolute(value)) : value;
  }
  // A config file holding the password is a credentials file: the same mode rule.
  if (out.tplinkPassword !== undefined) {
    let mode: number;
    try {
      mode = (await statFile(path)).mode;
    } catch (err) {
      throw new AgentConfigError(`cannot read config file ${path}: ${(err as Error).message}`, { cause: err });
    }
    refuseReadableByOthers('config file', path, mode);
  }
  return out;
}

/** Values of the settings that declare an environment variable (unset or empty: absent). */
function fromEnvironment(env: Record<string, string | undefined>): Partial<Record<OptionName, unknown>> {
  const out: Partial<Record<OptionName, unknown>> = {};
  for (const [name, s] of settingsOf(AGENT_SETTINGS)) {
    const value = s.env ? env[envName(name)] : undefined;
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
    throw new AgentConfigError(`missing required option${missing.length > 1 ? 's' : ''}: ${missing.map(flagOf).join(', ')}`);
  }
  const endpoint = read('endpoint', v.endpoint);
  const explicitPort = /^(\[[^\]]+\]|[^:]+):\d+$/.test(String(v.endpoint).trim());
  if (explicitPort && v.port !== undefined && read('port', v.port) !== endpoint.port) {
    throw new AgentConfigError(`--endpoint ${String(v.endpoint)} and --port ${String(v.port)} disagree: give the port once`);
  }
  const given: Partial<AgentOptions> = {};
  for (const name of OPTIONAL_SETTINGS) if (name !== 'port' && v[name] !== undefined) Object.assign(given, { [name]: read(name, v[name]) });
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
    once: v.once === undefined ? AGENT_SETTINGS.once.default : read('once', v.once),
    json: v.json === undefined ? AGENT_SETTINGS.json.default : read('json', v.json),
    logLevel: v.logLevel === undefined ? AGENT_SETTINGS.logLevel.default : read('logLevel', v.logLevel),
  };
}
