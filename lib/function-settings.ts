/**
 * Stack settings → each function's environment, through the builders the functions themselves
 * own (core/button/config.ts, core/s3/config.ts) so the stack and the sandbox configure them the
 * same way. Pure. A problem the builder finds across settings (a secret in relay mode) is a
 * ContextError naming the context key that sets the field.
 */
import { BUTTON_ENV, checkButtonSettings, worstCaseClickMs } from '../core/button/config';
import { objectFunctionEnvironment } from '../core/s3/config';
import { plugForTarget } from '../core/plug-relay/config';
import { formatHostPort } from '../core/util/host-port';
import { STACK_SETTINGS } from '../core/settings/stack';
import { ContextError } from './errors';
import type { StackSettings } from './context';

/** The plug every button without its own entry switches: plugHost:plugPort, by its plug id when it is a configured plug. */
export function defaultTarget(settings: Pick<StackSettings, 'plugHost' | 'plugPort' | 'plugs'>): string {
  const plug = plugForTarget(settings.plugs, { host: settings.plugHost, port: settings.plugPort });
  return plug ? plug.id : formatHostPort(settings.plugHost, settings.plugPort);
}

/** The context key that sets a function setting (the first, for `defaultTargets`: `plugHost`). */
const contextKeyOf = (field: string): string => Object.entries(STACK_SETTINGS).find(([, s]) => 'feeds' in s && s.feeds === field)?.[0] ?? field;

/**
 * The button function's environment (`iotDataEndpoint`, relay mode: the account's data endpoint
 * URL, maybe a deploy-time token), and what its configuration needs: the timeout — its own worst
 * case (18 s for one plug with the default 2 s + 3 s plug timeouts), within 10 s and Lambda's
 * 900 s — and how long a click may wait in Lambda's queue: as long as the button would still act
 * on it (`maxClickAgeSeconds`), within Lambda's 60 s to 6 h.
 */
export function buttonFunction(settings: StackSettings, snsTopicArn: string, iotDataEndpoint?: string) {
  const { env, config } = checkButtonSettings(
    {
      defaultTargets: settings.defaultTargets ?? defaultTarget(settings),
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

/**
 * Objects under `<keyPrefix>things/<thing>/` go to that thing only — the same prefix the device
 * role is scoped to when `scopeObjectsPerThing` is on; everything else goes to every thing.
 */
export function thingPrefix(settings: Pick<StackSettings, 'keyPrefix'>): string {
  return `${settings.keyPrefix}things/`;
}

/** `iotDataEndpoint`: the account's `https://<prefix>-ats.iot.<region>.amazonaws.com` (may be a deploy-time token). */
export function objectEnvironment(settings: StackSettings, iotDataEndpoint: string): Record<string, string> {
  return objectFunctionEnvironment({
    // With per-thing objects a device may read only things/<itself>/: no key outside goes to every thing.
    targetThings: settings.scopeObjectsPerThing ? [] : settings.thingNames,
    // Likewise a group's members get only what is under their own things/<name>/.
    ...(settings.scopeObjectsPerThing || !settings.thingGroups?.length ? {} : { thingGroups: settings.thingGroups }),
    thingPrefix: thingPrefix(settings),
    shadowProperty: settings.shadowProperty,
    shadowName: settings.shadowName,
    iotDataEndpoint,
  });
}
