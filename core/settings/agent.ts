/** The device agent's settings, declared once: flag (and the seed program's snake_case spellings), type, default, text and codec. Pure. */
import { OBJECT_SETTINGS, shadowNameCodec, thingNameCodec } from '../s3/settings';
import { boolean, byteSize, endpoint, integer, LOG_LEVEL_TEXT, logLevelSetting, MQTT_PORT, text } from './codecs';
import { codec, envName, setting, SettingValueError, type Codec } from './schema';
import { BUTTON_SETTINGS, plugsCodec } from '../button/settings';

const nonEmpty = text((t) => (t === '' ? 'must not be empty' : undefined));

/** One path or several (a repeated flag, or a JSON array in the config file). */
const pathList: Codec<string[]> = codec(
  (value) => {
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) throw new SettingValueError('expected at least one path');
    return items.map((item) => nonEmpty.parse(item));
  },
  (paths) => paths.join(', '),
);

/** A password: taken as written (spaces are part of it), never quoted in a message. */
const secret: Codec<string> = codec(
  (value) => {
    if (typeof value !== 'string' || value === '') throw new SettingValueError('expected non-empty text');
    return value;
  },
  () => '(secret)',
);

/** How often the hub polls each plug; how old a plug request may be (the button's click age limit). */
export const DEFAULT_PLUG_POLL_MS = 10_000;
export const DEFAULT_MAX_REQUEST_AGE_MS = BUTTON_SETTINGS.maxClickAgeSeconds.default * 1000;

export const AGENT_SETTINGS = {
  endpoint: setting(endpoint(MQTT_PORT), {
    flag: '--endpoint <host[:port]>',
    defaultText: 'required',
    description: "MQTT endpoint: the account's `...-ats.iot.<region>.amazonaws.com`; port 8883 (mutual TLS) unless given",
  }),
  port: setting(integer(1, 65_535), {
    flag: '--port <port>',
    default: MQTT_PORT,
    description: 'MQTT port, when `--endpoint` gives none (kept for old command lines; prefer `--endpoint host:port`)',
  }),
  cert: setting(nonEmpty, { flag: '--cert <path>', defaultText: 'required', description: 'device certificate (PEM)' }),
  key: setting(nonEmpty, { flag: '--key <path>', defaultText: 'required', description: 'device private key (PEM)' }),
  caFile: setting(nonEmpty, {
    flag: '--ca-file <path>',
    aliases: ['--ca_file', '--root-ca', '--root_ca'],
    defaultText: 'system CAs',
    description: 'CA(s) to trust for MQTT and the credentials provider (PEM)',
  }),
  clientId: setting(nonEmpty, {
    flag: '--client-id <id>',
    aliases: ['--client_id'],
    defaultText: 'the thing name',
    description: 'MQTT client id (IoT policies usually require it to be the thing name)',
  }),
  thingName: setting(thingNameCodec, { flag: '--thing-name <name>', aliases: ['--thing_name'], defaultText: 'required', description: 'the thing whose shadow to follow' }),
  credentialEndpoint: setting(nonEmpty, {
    flag: '--credential-endpoint <url>',
    aliases: ['--credential_endpoint'],
    defaultText: "the SDK's credential chain",
    description: 'IoT credentials provider: `<prefix>.credentials.iot.<region>.amazonaws.com/role-aliases/<alias>/credentials` (`https://` optional)',
  }),
  shadowProperty: { ...OBJECT_SETTINGS.shadowProperty, flag: '--shadow-property <name>', aliases: ['--shadow_property'], description: 'shadow property that holds the file' },
  shadowName: setting(shadowNameCodec, { flag: '--shadow-name <name>', aliases: ['--shadow_name'], defaultText: 'classic shadow', description: 'a named shadow instead' }),
  region: setting(nonEmpty, { flag: '--region <region>', aliases: ['--signing_region'], default: 'us-east-1', description: 'region of the bucket' }),
  s3Endpoint: setting(nonEmpty, { flag: '--s3-endpoint <url>', aliases: ['--s3_endpoint'], defaultText: 'AWS S3', description: 'an S3-compatible or local endpoint (path-style addressing is used)' }),
  dest: setting(nonEmpty, { flag: '--dest <dir>', defaultText: 'required', description: 'where files are installed (created if missing)' }),
  onUpdate: setting(nonEmpty, {
    flag: '--on-update <command>',
    aliases: ['--on_update'],
    defaultText: 'none',
    description: 'run after each verified install (`SHADOWPLUG_PATH`, `SHADOWPLUG_HASH`, ... in its environment)',
  }),
  stateDir: setting(nonEmpty, { flag: '--state-dir <dir>', aliases: ['--state_dir'], defaultText: '`<dest>/.shadowplug-state`', description: 'where the agent remembers what it installed, and how it reached each plug' }),
  maxSize: setting(byteSize(), {
    flag: '--max-size <size>',
    aliases: ['--max_size'],
    unit: 'bytes',
    default: 1024 ** 3,
    defaultText: '`1GiB`',
    description: 'largest object accepted: bytes, or `500MiB`, `2GB`, `64k`... (`KiB/MiB/GiB`, `k/m/g`: powers of 1024; `KB/MB/GB`: of 1000)',
  }),
  trustedKey: setting(pathList, {
    flag: '--trusted-key <pem>',
    type: 'repeatable',
    defaultText: 'none: unsigned files are installed (a warning at start)',
    description: 'public key (PEM, EC P-256) whose signed releases this device installs, and only those; repeat to rotate keys (docs/agent.md#signed-releases)',
  }),
  plugs: setting(plugsCodec, {
    flag: '--plugs <list>',
    defaultText: 'none',
    description: 'plugs this agent drives over the LAN when their hub is its thing (shadows `plug-<id>`; the same list as the stack\'s `plugs`)',
  }),
  plugPollMs: setting(integer(100, 3_600_000), {
    flag: '--plug-poll-ms <ms>',
    unit: 'ms',
    defaultText: String(DEFAULT_PLUG_POLL_MS),
    description: "how often each plug is polled, so a press on the plug's own button shows in the shadow",
  }),
  maxRequestAgeMs: setting(integer(1_000, 86_400_000), {
    flag: '--max-request-age-ms <ms>',
    unit: 'ms',
    defaultText: `${DEFAULT_MAX_REQUEST_AGE_MS} (the button's click age limit)`,
    description: 'a plug request older than this is reported `expired`, never applied',
  }),
  tplinkUsername: setting(nonEmpty, {
    flag: '--tplink-username <email>',
    env: true,
    defaultText: 'none (the default credentials only)',
    description: `TP-Link account (Kasa/Tapo app) email for KLAP and AES plugs; also \`${envName('tplinkUsername')}\``,
  }),
  tplinkPassword: setting(secret, {
    flag: '--tplink-password <password>',
    env: true,
    defaultText: 'none',
    description: `its password; better \`${envName('tplinkPassword')}\` or \`--tplink-credentials-file\` (a flag is visible to every user in \`ps\`)`,
  }),
  tplinkCredentialsFile: setting(nonEmpty, {
    flag: '--tplink-credentials-file <path>',
    defaultText: 'none',
    description: 'the TP-Link account in a file: JSON `{"username", "password"}` or two lines (email, password); refused when group or others may read it (`chmod 600`)',
  }),
  jobs: setting(boolean(), {
    flag: '--jobs',
    type: 'switch',
    default: false,
    defaultText: 'off',
    description: "roll-out mode: also take file deliveries as IoT Jobs on the thing's own job topics (the device policy must allow them; docs/rollout.md)",
  }),
  once: setting(boolean(), { flag: '--once', type: 'switch', default: false, defaultText: 'off', description: 'sync once and exit: 0 in sync, 1 failed, 2 bad configuration' }),
  json: setting(boolean(), { flag: '--json', type: 'switch', default: false, defaultText: 'off', description: 'machine-readable output: one JSON object per log line' }),
  logLevel: { ...logLevelSetting, ...LOG_LEVEL_TEXT, aliases: ['--log_level'] },
  config: setting(nonEmpty, { flag: '--config <file>', defaultText: 'none', description: 'JSON file with the same options (kebab-case, camelCase or snake_case keys)' }),
};

export type AgentSettingName = keyof typeof AGENT_SETTINGS;
