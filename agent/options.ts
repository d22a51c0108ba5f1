/**
 * The agent's options from command-line flags and an optional JSON config file, validated.
 * Flags are kebab-case; the seed program's snake_case spellings are accepted as hidden aliases.
 * Light on purpose (no SDK, no MQTT): the CLI imports it to build `--help`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AgentOptions } from './agent';
import { AgentConfigError } from './errors';

export type OptionName =
  | 'endpoint' | 'port' | 'cert' | 'key' | 'caFile' | 'clientId' | 'thingName' | 'credentialEndpoint'
  | 'shadowProperty' | 'shadowName' | 'region' | 's3Endpoint' | 'dest' | 'onUpdate' | 'stateDir'
  | 'maxSize' | 'once' | 'json' | 'logLevel' | 'config';

export interface FlagSpec {
  name: OptionName;
  /** Commander flag syntax, e.g. `--ca-file <path>`. */
  flag: string;
  help: string;
  /** Other spellings accepted (the seed program's snake_case). */
  aliases?: string[];
}

export const AGENT_FLAGS: FlagSpec[] = [
  { name: 'endpoint', flag: '--endpoint <host>', help: 'MQTT endpoint host (AWS IoT data endpoint, ...-ats.iot.<region>.amazonaws.com)' },
  { name: 'port', flag: '--port <port>', help: 'MQTT port (default 8883)' },
  { name: 'cert', flag: '--cert <path>', help: 'device certificate (PEM)' },
  { name: 'key', flag: '--key <path>', help: 'device private key (PEM)' },
  { name: 'caFile', flag: '--ca-file <path>', help: 'CA certificate(s) to trust (PEM; default: the system CAs)', aliases: ['--ca_file', '--root-ca', '--root_ca'] },
  { name: 'clientId', flag: '--client-id <id>', help: 'MQTT client id (default: the thing name)', aliases: ['--client_id'] },
  { name: 'thingName', flag: '--thing-name <name>', help: 'the thing whose shadow to follow', aliases: ['--thing_name'] },
  {
    name: 'credentialEndpoint',
    flag: '--credential-endpoint <url>',
    help: 'IoT credentials provider: <prefix>.credentials.iot.<region>.amazonaws.com/role-aliases/<alias>/credentials',
    aliases: ['--credential_endpoint'],
  },
  { name: 'shadowProperty', flag: '--shadow-property <name>', help: 'shadow property holding the file (default s3)', aliases: ['--shadow_property'] },
  { name: 'shadowName', flag: '--shadow-name <name>', help: 'named shadow (default: the classic shadow)', aliases: ['--shadow_name'] },
  { name: 'region', flag: '--region <region>', help: 'AWS region of the bucket', aliases: ['--signing_region'] },
  { name: 's3Endpoint', flag: '--s3-endpoint <url>', help: 'S3-compatible or local endpoint instead of AWS S3', aliases: ['--s3_endpoint'] },
  { name: 'dest', flag: '--dest <dir>', help: 'directory files are installed in' },
  { name: 'onUpdate', flag: '--on-update <command>', help: 'shell command run after each verified install (SHADOWPLUG_PATH, SHADOWPLUG_HASH, ... in its environment)', aliases: ['--on_update'] },
  { name: 'stateDir', flag: '--state-dir <dir>', help: 'where the agent keeps its state (default <dest>/.shadowplug-state)', aliases: ['--state_dir'] },
  { name: 'maxSize', flag: '--max-size <size>', help: 'largest object accepted: bytes or 500MiB, 2GB, ... (default 1GiB)', aliases: ['--max_size'] },
  { name: 'once', flag: '--once', help: 'sync once and exit: 0 in sync, 1 failed, 2 bad configuration' },
  { name: 'json', flag: '--json', help: 'JSON log lines' },
  { name: 'logLevel', flag: '--log-level <level>', help: 'debug | info | warn | error (default info)', aliases: ['--log_level'] },
  { name: 'config', flag: '--config <file>', help: 'JSON file with the same options (kebab-case, camelCase or snake_case keys)' },
];

export interface AgentCliOptions extends AgentOptions {
  once: boolean;
  json: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
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

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

/** `1048576`, `500MiB`, `2GB`, `1.5g` → bytes. */
export function parseSize(value: unknown, what = 'max-size'): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const m = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null;
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new AgentConfigError(`${what} ${JSON.stringify(value)} is not a size (bytes, or with KiB/MiB/GiB/KB/MB/GB)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new AgentConfigError(`${what} ${JSON.stringify(value)} is too large`);
  return bytes;
}

function parsePort(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new AgentConfigError(`port ${JSON.stringify(value)} is not a port number (1-65535)`);
  return n;
}

function asString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new AgentConfigError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function asBoolean(name: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new AgentConfigError(`${name} must be true or false, got ${JSON.stringify(value)}`);
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
    const isPath = name === 'cert' || name === 'key' || name === 'caFile' || name === 'dest' || name === 'stateDir';
    out[name] = isPath && typeof value === 'string' && !isAbsolute(value) ? resolve(base, value) : value;
  }
  return out;
}

/**
 * Validated options from flag values (already keyed by option name) and, when `config` is
 * given, a config file; flags win over the file.
 */
export async function resolveAgentOptions(
  flags: Partial<Record<OptionName, unknown>>,
  read?: (p: string) => Promise<string>,
): Promise<AgentCliOptions> {
  const fromFile = flags.config !== undefined ? await readConfigFile(asString('config', flags.config), read) : {};
  const v: Partial<Record<OptionName, unknown>> = { ...fromFile };
  for (const [k, value] of Object.entries(flags)) if (value !== undefined) v[k as OptionName] = value;

  const missing = (['endpoint', 'cert', 'key', 'thingName', 'dest'] as const).filter((n) => v[n] === undefined);
  if (missing.length > 0) {
    const flagsOf = missing.map((n) => AGENT_FLAGS.find((f) => f.name === n)!.flag.split(' ')[0]);
    throw new AgentConfigError(`missing required option${missing.length > 1 ? 's' : ''}: ${flagsOf.join(', ')}`);
  }
  const logLevel = v.logLevel === undefined ? 'info' : asString('log-level', v.logLevel);
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new AgentConfigError(`log-level ${JSON.stringify(logLevel)} is not debug, info, warn or error`);
  const opt = (name: OptionName, label: string) => (v[name] === undefined ? {} : { [name]: asString(label, v[name]) });
  return {
    endpoint: asString('endpoint', v.endpoint),
    port: v.port === undefined ? 8883 : parsePort(v.port),
    cert: asString('cert', v.cert),
    key: asString('key', v.key),
    thingName: asString('thing-name', v.thingName),
    dest: asString('dest', v.dest),
    ...opt('caFile', 'ca-file'),
    ...opt('clientId', 'client-id'),
    ...opt('credentialEndpoint', 'credential-endpoint'),
    ...opt('shadowProperty', 'shadow-property'),
    ...opt('shadowName', 'shadow-name'),
    ...opt('region', 'region'),
    ...opt('s3Endpoint', 's3-endpoint'),
    ...opt('onUpdate', 'on-update'),
    ...opt('stateDir', 'state-dir'),
    ...(v.maxSize === undefined ? {} : { maxSize: parseSize(v.maxSize) }),
    once: v.once === undefined ? false : asBoolean('once', v.once),
    json: v.json === undefined ? false : asBoolean('json', v.json),
    logLevel: logLevel as AgentCliOptions['logLevel'],
  };
}
