/**
 * The flags of `shadowplug sandbox`, declared once: bin/commands/sandbox.ts builds its options and
 * docs/sandbox.md its flag table from this. Light on purpose (the CLI's `--help` loads it).
 */
import { BUTTON_SETTINGS } from '../core/button/settings';
import { DOCUMENTED_BUTTON_SETTINGS } from '../core/button/settings-text';
import { AGENT_SETTINGS } from '../core/settings/agent';
import { FANOUT_SETTINGS, SHADOW_QUOTA } from '../core/fleet/settings';
import { boolean, integer, logLevelSetting, text } from '../core/settings/codecs';
import { envName, setting } from '../core/settings/schema';

export const MAX_DEVICES = 1000;
const flagSwitch = boolean();

export const SANDBOX_SETTINGS = {
  dir: setting(text(), { flag: '--dir <path>', default: '.sandbox', description: 'where the sandbox keeps certificates, shadows, objects and device files' }),
  json: setting(flagSwitch, {
    flag: '--json',
    type: 'switch',
    defaultText: 'off',
    description: 'machine-readable output: `shadowplug sandbox ready`, then one line with one JSON object of every endpoint and path; events go to stderr as JSON lines',
  }),
  devices: setting(integer(1, MAX_DEVICES), {
    flag: '--devices <n>',
    default: 1,
    description: 'number of things, each with its own certificate and agent; above 10 their certificates share one key pair to start fast',
  }),
  group: setting(text(), {
    flag: '--group <name>',
    type: 'thing group',
    defaultText: 'none',
    description: 'put every device in this static thing group, and send uploads to the group (listed when each upload is handled) instead of to the things by name',
  }),
  groupsFile: setting(text(), {
    flag: '--groups-file <path>',
    type: 'path',
    defaultText: 'none',
    description:
      'thing groups from a JSON file, `[{"name": "site", "things": ["shadowplug-device-1"]}, {"name": "pumps", "query": "thingName:shadowplug-device-2*", "parent": "site"}]`: static (`things`), dynamic (`query`, by thing name) or nested (`parent`); uploads go to the groups without a parent',
  }),
  fanOutWritesPerSecond: {
    ...FANOUT_SETTINGS.writesPerSecond,
    flag: '--fanout-rate <writes/s>',
    default: SHADOW_QUOTA.large,
    description: "the fan-out worker's shadow writes per second (an upload to more than 50 devices is written by the worker); the sandbox's data plane has no quota unless --data-plane-rate sets one",
  },
  dataPlaneRate: setting(integer(1, 100_000), {
    flag: '--data-plane-rate <requests/s>',
    type: 'integer',
    range: [1, 100_000],
    defaultText: 'unlimited',
    description: 'the data plane answers 429 ThrottlingException above this many requests per second, as AWS does above its quota',
  }),
  plug: setting(text(), {
    flag: '--plug <spec>',
    defaultText: '`lamp=hs100`',
    description:
      'a plug the button switches, named by id (repeat for several): `id[@thing]=kind[#outlet]` simulates one — kinds hs100, hs110, hs300 (XOR), hs100-klap1, hs103-klap2, kp115-klap2 (IOT over KLAP), p110-klap, p100-aes, p300-klap (Tapo SMART); `#1` is outlet 1 of a strip — `id[@thing]=host[:port][#outlet]` is a real plug on your LAN; a bare `host[:port]` is the real plug `lamp`. The thing (its hub in relay mode) is the first unless given',
  }),
  strip: setting(flagSwitch, { flag: '--strip', type: 'switch', defaultText: 'off', description: 'simulate an HS300 power strip (six outlets; a click switches all) instead of an HS100 plug (the same as `--plug lamp=hs300`)' }),
  tplinkUsername: {
    ...AGENT_SETTINGS.tplinkUsername,
    defaultText: `\`$${envName('tplinkUsername')}\`, else \`sandbox@example.com\``,
    description: 'the TP-Link account the simulated KLAP/AES plugs accept, and the agents (and the button in direct mode) log in with',
  },
  tplinkPassword: {
    ...AGENT_SETTINGS.tplinkPassword,
    defaultText: `\`$${envName('tplinkPassword')}\`, else \`sandbox\``,
    description: "that account's password (never printed)",
  },
  plugMode: {
    ...BUTTON_SETTINGS.plugMode,
    flag: '--plug-mode <mode>',
    defaultText: '`relay` (`direct` with --no-agents)',
    description: "`relay`: the button switches each plug through its shadow `plug-<id>` and its thing's agent; `direct`: from the button function to the plug (the seed's path)",
  },
  clickActions: { ...DOCUMENTED_BUTTON_SETTINGS.clickActions, defaultText: 'every click toggles' },
  buttonSerial: setting(text(), { flag: '--button-serial <serial>', defaultText: '`G030SANDBOX00001`', description: 'serial number of the sandbox button (1 to 64 letters, digits, _ or -)' }),
  dashboard: setting(flagSwitch, {
    flag: '--no-dashboard',
    type: 'switch',
    defaultText: 'served',
    description: 'do not serve the dashboard (a live page on 127.0.0.1 with the plug, devices, uploads, shadows and events)',
  }),
  dashboardPort: setting(integer(0, 65_535), {
    flag: '--dashboard-port <port>',
    defaultText: 'any free port',
    description: 'serve the dashboard on this port of 127.0.0.1 (the banner and `--json` name the URL)',
  }),
  rollout: setting(flagSwitch, {
    flag: '--rollout',
    type: 'switch',
    defaultText: 'off (uploads go through the shadows)',
    description: 'roll-out mode: every upload becomes an IoT Job for all the things (with --group/--groups-file: the groups\' members), rolled out in waves with an abort rule (docs/rollout.md)',
  }),
  rolloutConfig: setting(text(), {
    flag: '--rollout-config <json>',
    type: 'JSON',
    defaultText: '5 first, ×2 per 5 successes; abort at 10 % failures after 10; 60-minute timeout',
    description: "CreateJob's own `{jobExecutionsRolloutConfig, abortConfig, timeoutConfig}` for the roll-out (implies --rollout)",
  }),
  agents: setting(flagSwitch, {
    flag: '--no-agents',
    type: 'switch',
    defaultText: 'agents run',
    description: 'run no agents: the things and their certificates exist, and you start `shadowplug agent` per thing yourself (the banner prints the command)',
  }),
  logLevel: { ...logLevelSetting, default: 'warn' as const, description: "how much of the components' own diagnostics to print on stderr: debug, info, warn, error or silent" },
  verbose: setting(flagSwitch, { flag: '--verbose', type: 'switch', defaultText: 'off', description: 'the same as `--log-level debug`' }),
};
