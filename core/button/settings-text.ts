/** The button settings with their text for people (the docs, the stack's context table, the CLI); apart so the Lambda bundle does not carry it. */
import { LOG_LEVEL_TEXT } from '../settings/codecs';
import { envName, withText } from '../settings/schema';
import { BUTTON_SETTINGS } from './settings';

export const DOCUMENTED_BUTTON_SETTINGS = withText(BUTTON_SETTINGS, {
  defaultTargets: {
    defaultText: 'none (the stack: `plugHost:plugPort`)',
    description: `Plug(s) for any button without its own entry: ids of configured plugs (\`lamp,fan\`), or (direct mode) addresses, port 9999 unless given, \`#2\` outlet 2 of a strip (0-based), \`#<child id>\` an outlet by id. Required unless ${envName('serialTargets')} names a button`,
  },
  serialTargets: { defaultText: '`{}`', description: 'Per button serial, its own plug(s), by plug id (or, direct mode, by address): `{"G030JF05...": ["lamp", "fan"]}`' },
  clickActions: { description: 'What each click type does: `SINGLE=toggle,DOUBLE=on,LONG=off` or JSON; types left out toggle; `none` ignores the click' },
  maxClickAgeSeconds: { unit: 's', description: 'A click received longer ago than this is not acted on' },
  lowBatteryMillivolts: { unit: 'mV', description: 'Warn when the classic button reports a lower `batteryVoltage` (0: never)' },
  lowBatteryPercent: { unit: '%', description: 'Warn when an IoT 1-Click button reports less `remainingLife` (0: never)' },
  snsTopicArn: { defaultText: 'unset', description: 'Publish outcomes here (the stack sets its topic); unset: no SNS client is loaded' },
  connectTimeoutMs: { unit: 'ms', description: 'Per plug connection' },
  requestTimeoutMs: { unit: 'ms', description: 'Per plug request' },
  dedupeCapacity: { description: 'Request ids a warm container remembers' },
  plugMode: {
    description: '`relay`: switch through each plug’s shadow `plug-<id>` on its hub (no port open to the home); `direct`: straight to the plug (XOR on TCP 9999, KLAP/AES on HTTP)',
  },
  plugs: {
    defaultText: 'none',
    description: 'Every plug, its hub thing and its LAN address; targets name them by id. Relay mode: each target must be one of them; direct mode: an id is switched at its address (the hub is unused)',
  },
  confirmTimeoutMs: { unit: 'ms', description: 'Relay mode: how long to wait for the hub to answer a request before reporting "not yet confirmed"' },
  iotDataEndpoint: { defaultText: "the region's", description: 'Relay mode: the IoT data-plane endpoint' },
  plugCredentialsSecret: {
    defaultText: 'none (KLAP/AES plugs are tried with the well-known default credentials)',
    description:
      'Direct mode only: the Secrets Manager secret (name, or ARN) holding the TP-Link account as `{"username": ..., "password": ...}`, read when a KLAP or AES plug first needs it, once per warm container; the button function may read this secret and no other (refused in relay mode: the credentials stay on the LAN)',
  },
  logLevel: LOG_LEVEL_TEXT,
});
