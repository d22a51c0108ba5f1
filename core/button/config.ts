/**
 * The button Lambda's configuration: its environment built from settings (the stack, the sandbox)
 * and read back once at cold start, both through the one table in settings.ts. Bundled into the Lambda.
 */
import { buildEnvironment, envNamesOf, readEnvironment, type Inputs, type Values } from '../settings/schema';
import { ConfigError } from '../errors';
import { BUTTON_SETTINGS, type ButtonSettingName } from './settings';
import { byDevice, type PlugTarget, type TargetRef } from './targets';
import { resolveTarget } from '../plug-relay/config';

export const BUTTON_ENV = envNamesOf(BUTTON_SETTINGS);

/** What the stack (from CDK context) or the sandbox (from its options) gives; `snsTopicArn` may be a CDK token (passed through unchecked). */
export type ButtonSettings = Inputs<typeof BUTTON_SETTINGS>;

/** The validated configuration the handler runs with: every setting's value, targets matched to the plugs. */
export type ButtonConfig = Omit<Values<typeof BUTTON_SETTINGS>, 'defaultTargets' | 'serialTargets'> & {
  defaultTargets: PlugTarget[];
  serialTargets: Record<string, PlugTarget[]>;
};

type Fail = (setting: string, problem: string, cause?: unknown) => never;

/** Checks across settings and matches the targets to the plugs, naming a setting the way the caller's source names it. */
function checkWhole(v: Values<typeof BUTTON_SETTINGS>, name: (setting: ButtonSettingName) => string, fail: Fail): ButtonConfig {
  if (v.defaultTargets.length === 0 && Object.keys(v.serialTargets).length === 0) {
    fail(name('defaultTargets'), `is not set and ${name('serialTargets')} names no button: the function has no plug to switch`);
  }
  if (v.plugMode === 'relay' && v.plugs.length === 0) {
    fail(
      name('plugs'),
      `is empty, and ${name('plugMode')} is relay (the default): configure every plug as id@hub=host[:port][#outlet], or set ${name('plugMode')} to direct to switch addresses over TCP`,
    );
  }
  if (v.plugMode === 'relay' && v.plugCredentialsSecret !== '') {
    // Refused, not ignored: the owner would believe the function uses it, and it would get a grant it never needs.
    fail(name('plugCredentialsSecret'), `is for ${name('plugMode')}=direct: in relay mode the agent on the LAN holds the plug credentials (docs/plug-relay.md), and the function needs none`);
  }
  const resolve = (setting: ButtonSettingName, refs: TargetRef[], serial?: string): PlugTarget[] =>
    refs.map((ref) => {
      try {
        return resolveTarget(ref, v.plugs, v.plugMode);
      } catch (err) {
        return fail(name(setting), `${serial === undefined ? '' : `serial ${serial}: `}${(err as Error).message}`, err);
      }
    });
  const { snsTopicArn, defaultTargets, serialTargets, ...rest } = v;
  const config: ButtonConfig = {
    ...rest,
    defaultTargets: resolve('defaultTargets', defaultTargets),
    serialTargets: Object.fromEntries(Object.entries(serialTargets).map(([serial, refs]) => [serial, resolve('serialTargets', refs, serial)])),
  };
  return snsTopicArn === undefined ? config : { ...config, snsTopicArn };
}

const configError: Fail = (variable, problem, cause) => {
  throw new ConfigError('BUTTON_CONFIG_INVALID', variable, problem, cause);
};

/** The configuration from the environment; a `ConfigError` names the variable at fault. */
export function parseButtonConfig(env: Record<string, string | undefined>): ButtonConfig {
  return checkWhole(readEnvironment(BUTTON_SETTINGS, env, configError) as Values<typeof BUTTON_SETTINGS>, (name) => BUTTON_ENV[name], configError);
}

/**
 * The function's environment for these settings and the configuration it will read from it,
 * checked as at cold start (`fail` names the field), so a bad configuration fails `cdk synth`.
 */
export function checkButtonSettings(settings: ButtonSettings, fail: Fail = configError): { env: Record<string, string>; config: ButtonConfig } {
  const { snsTopicArn, ...checked } = settings;
  const { env, values } = buildEnvironment(BUTTON_SETTINGS, checked, fail);
  const config = checkWhole(values as Values<typeof BUTTON_SETTINGS>, (name) => name, fail);
  if (typeof snsTopicArn === 'string' && snsTopicArn !== '') env[BUTTON_ENV.snsTopicArn] = snsTopicArn;
  return { env, config };
}

/** The environment alone (the sandbox, tests). */
export function buttonFunctionEnvironment(settings: ButtonSettings): Record<string, string> {
  return checkButtonSettings(settings).env;
}

/** The targets a serial's clicks go to: its own entry, else the defaults (possibly none). */
export function targetsFor(config: ButtonConfig, serial: string): PlugTarget[] {
  return config.serialTargets[serial] ?? config.defaultTargets;
}

/** The most a credentials fetch may take: 2 attempts of 2 s connect + 3 s request (secret-credentials.ts). */
const SECRET_FETCH_MS = 10_000;

/**
 * Worst-case milliseconds to act on one click, for sizing the function's timeout: per outlet a
 * status and a set, each a connect plus a request, and a third round as headroom (a slow
 * reconnect), plus in relay mode the wait for the hub; devices in parallel, outlets of one device
 * in turn; plus a secret fetch when configured and 3 s for SNS. With the defaults, 18 s for one plug.
 */
export function worstCaseClickMs(config: ButtonConfig): number {
  const perOutlet = 3 * (config.connectTimeoutMs + config.requestTimeoutMs) + (config.plugMode === 'relay' ? config.confirmTimeoutMs : 0);
  let worst = 0;
  for (const list of [config.defaultTargets, ...Object.values(config.serialTargets)]) {
    for (const outlets of byDevice(list)) worst = Math.max(worst, outlets.length * perOutlet);
  }
  const secret = config.plugMode === 'direct' && config.plugCredentialsSecret !== '' ? SECRET_FETCH_MS : 0;
  return worst + secret + 3_000;
}
