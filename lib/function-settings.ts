/**
 * Stack settings → each function's environment, through the builders the functions themselves
 * own (core/button/config.ts, core/s3/config.ts) so the stack and the sandbox configure them the
 * same way. Pure. Every value was already checked by the same codecs when the context was read
 * (lib/context.ts), so a builder error here would be a bug, not a user's mistake.
 */
import { BUTTON_ENV, buttonFunctionEnvironment, parseButtonConfig, worstCaseClickMs, type ButtonSettings } from '../core/button/config';
import { objectFunctionEnvironment, type ObjectSettings } from '../core/s3/config';
import { plugForTarget } from '../core/plug-relay/config';
import type { StackSettings } from './context';

/** The plug every button without its own entry switches: plugHost:plugPort, by its plug id when it is a configured plug. */
export function defaultTarget(settings: Pick<StackSettings, 'plugHost' | 'plugPort' | 'plugs'>): string {
  const plug = plugForTarget(settings.plugs, { host: settings.plugHost, port: settings.plugPort });
  if (plug) return plug.id;
  const host = settings.plugHost.includes(':') ? `[${settings.plugHost}]` : settings.plugHost;
  return `${host}:${settings.plugPort}`;
}

/** `iotDataEndpoint` (relay mode): the account's data endpoint URL (may be a deploy-time token). */
export function buttonEnvironment(settings: StackSettings, snsTopicArn: string, iotDataEndpoint?: string): Record<string, string> {
  const buttonSettings: ButtonSettings = {
    defaultTargets: settings.defaultTargets ?? defaultTarget(settings),
    serialTargets: settings.buttonTargets,
    clickActions: settings.clickActions,
    snsTopicArn,
    plugMode: settings.plugMode,
    ...(settings.plugs.length > 0 ? { plugs: settings.plugs } : {}),
    plugCredentialsSecret: settings.plugCredentialsSecret,
    maxClickAgeSeconds: settings.maxClickAgeSeconds,
    lowBatteryMillivolts: settings.lowBatteryMillivolts,
  };
  const env = buttonFunctionEnvironment(buttonSettings);
  // A token cannot be checked at synth; it is the endpoint IotDataEndpoint looks up at deploy.
  if (settings.plugMode === 'relay' && iotDataEndpoint !== undefined) env[BUTTON_ENV.iotDataEndpoint] = iotDataEndpoint;
  return env;
}

/**
 * The button function's timeout: the button's own worst case for this configuration (every plug
 * timing out on connect and request, outlets of a strip one after another) — with the default
 * 2 s + 3 s plug timeouts, 18 s for one plug — and never under 10 s, nor over Lambda's 900 s.
 */
export function buttonTimeoutSeconds(environment: Record<string, string>): number {
  // The topic ARN may still be a CDK token here; the timeout does not depend on it.
  const { [BUTTON_ENV.snsTopicArn]: _topic, [BUTTON_ENV.iotDataEndpoint]: _endpoint, ...rest } = environment;
  const worstMs = worstCaseClickMs(parseButtonConfig(rest));
  return Math.min(900, Math.max(10, Math.ceil(worstMs / 1000)));
}

/**
 * How long Lambda may hold a click in its asynchronous queue: as long as the button would still act
 * on it (`maxClickAgeSeconds`, default 30) — older clicks are refused by the function anyway — within
 * Lambda's 60 s to 6 h range.
 */
export function buttonMaxEventAgeSeconds(environment: Record<string, string>): number {
  const { [BUTTON_ENV.snsTopicArn]: _topic, [BUTTON_ENV.iotDataEndpoint]: _endpoint, ...rest } = environment;
  const maxClickSeconds = parseButtonConfig(rest).maxClickAgeSeconds;
  return Math.min(21_600, Math.max(60, maxClickSeconds));
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
  const objectSettings: ObjectSettings = {
    // With per-thing objects a device may read only things/<itself>/: no key outside goes to every thing.
    targetThings: settings.scopeObjectsPerThing ? [] : settings.thingNames,
    // Likewise a group's members get only what is under their own things/<name>/.
    ...(settings.scopeObjectsPerThing || settings.thingGroups.length === 0 ? {} : { thingGroups: settings.thingGroups }),
    thingPrefix: thingPrefix(settings),
    property: settings.shadowProperty,
    shadowName: settings.shadowName,
    iotDataEndpoint,
  };
  return objectFunctionEnvironment(objectSettings);
}
