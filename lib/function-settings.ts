/**
 * Stack settings → each function's environment, through the builders the functions own (so the
 * sandbox configures them the same way). Pure; a problem found across settings is a ContextError.
 */
import { BUTTON_ENV, checkButtonSettings, worstCaseClickMs } from '../core/button/config';
import { objectFunctionEnvironment } from '../core/s3/config';
import { plugForTarget } from '../core/plug-relay/config';
import { formatHostPort } from '../core/util/host-port';
import { STACK_SETTINGS } from '../core/settings/stack';
import { ContextError } from './errors';
import type { StackSettings } from './context';

/** The context key that sets a function setting (the first, for `defaultTargets`: `plugHost`). */
const contextKeyOf = (field: string): string => Object.entries(STACK_SETTINGS).find(([, s]) => 'feeds' in s && s.feeds === field)?.[0] ?? field;

/**
 * The button function's environment; its timeout: its worst case (18 s for one plug with the default
 * plug timeouts) within 10-900 s; and how long a click may wait in Lambda's queue: as long as the
 * button would still act on it (`maxClickAgeSeconds`), within Lambda's 60 s to 6 h.
 */
export function buttonFunction(settings: StackSettings, snsTopicArn: string, iotDataEndpoint?: string) {
  // Buttons without their own entry switch plugHost:plugPort (by plug id when it is a configured plug).
  const defaultPlug = plugForTarget(settings.plugs, { host: settings.plugHost, port: settings.plugPort });
  const { env, config } = checkButtonSettings(
    {
      defaultTargets: settings.defaultTargets ?? defaultPlug?.id ?? formatHostPort(settings.plugHost, settings.plugPort),
      serialTargets: settings.buttonTargets,
      clickActions: settings.clickActions,
      snsTopicArn,
      plugMode: settings.plugMode,
      plugs: settings.plugs,
      plugCredentialsSecret: settings.plugCredentialsSecret,
      maxClickAgeSeconds: settings.maxClickAgeSeconds,
      lowBatteryMillivolts: settings.lowBatteryMillivolts,
    },
    (field, problem, cause) => {
      throw new ContextError(contextKeyOf(field), problem, { cause });
    },
  );
  // A token cannot be checked at synth; it is the endpoint IotDataEndpoint looks up at deploy.
  if (settings.plugMode === 'relay' && iotDataEndpoint !== undefined) env[BUTTON_ENV.iotDataEndpoint] = iotDataEndpoint;
  return {
    environment: env,
    timeoutSeconds: Math.min(900, Math.max(10, Math.ceil(worstCaseClickMs(config) / 1000))),
    maxEventAgeSeconds: Math.min(21_600, Math.max(60, config.maxClickAgeSeconds)),
  };
}

/** `iotDataEndpoint`: the account's `https://<prefix>-ats.iot.<region>.amazonaws.com` (may be a deploy-time token). */
export function objectEnvironment(settings: StackSettings, iotDataEndpoint: string): Record<string, string> {
  return objectFunctionEnvironment({
    // With per-thing objects a device may read only things/<itself>/: no key outside goes to every thing.
    targetThings: settings.scopeObjectsPerThing ? [] : settings.thingNames,
    // Likewise a group's members get only what is under their own things/<name>/.
    ...(settings.scopeObjectsPerThing || !settings.thingGroups?.length ? {} : { thingGroups: settings.thingGroups }),
    // Objects under <keyPrefix>things/<thing>/ go to that thing only (the prefix devices are scoped to).
    thingPrefix: `${settings.keyPrefix}things/`,
    shadowProperty: settings.shadowProperty,
    shadowName: settings.shadowName,
    iotDataEndpoint,
  });
}
