/**
 * The button function's settings, declared once: each with its environment variable, context key
 * (when CDK context sets it directly), type, range, default and description. config.ts builds and
 * parses the environment from this table, lib/ reads context through it, and docs/button.md's
 * table is generated from it. Pure.
 */
import { DOCS, NO_TEXT } from '../settings/docs-text';
import { integer, jsonText, matching, oneOf, text } from '../settings/codecs';
import { formatPlug, parsePlugList, checkPlugs, type PlugConfig } from '../plug-relay/config';
import { BUTTON_ENV_NAMES, SHARED_ENV_NAMES } from '../settings/env-names';
import { SettingValueError } from '../settings/errors';
import { logLevelSetting } from '../settings/log-level';
import { setting, type Codec } from '../settings/schema';
import { CLICK_ACTIONS, CLICK_TYPES, SERIAL_PATTERN, isClickAction, isClickType, type ClickAction, type ClickType } from './click';
import { formatTarget, formatTargetRef, parseTarget, parseTargetRef, type PlugTarget, type TargetRef } from './targets';

export type ClickActions = Record<ClickType, ClickAction>;

const CLICK_ACTIONS_SHAPE = `TYPE=action[,TYPE=action] or {"${CLICK_TYPES.join('"|"')}": "${CLICK_ACTIONS.join('"|"')}"}`;

/** `SINGLE=toggle,DOUBLE=on` or `{"SINGLE":"toggle"}`; types left out toggle. The one parser of click actions. */
export const clickActionsCodec: Codec<ClickActions> = {
  parse: (text) => clickActionsCodec.coerce!(text),
  coerce(value) {
    let entries: [string, unknown][];
    const raw = typeof value === 'string' ? jsonText(value) : value;
    if (typeof raw === 'string') {
      entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((pair) => {
        const [type, action, extra] = pair.split('=').map((s) => s.trim());
        if (extra !== undefined || action === undefined) throw new SettingValueError(`"${pair}" is not TYPE=action`);
        return [type!, action];
      });
    } else if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      entries = Object.entries(raw);
    } else {
      throw new SettingValueError(`expected ${CLICK_ACTIONS_SHAPE}`);
    }
    const actions: ClickActions = { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' };
    for (const [type, action] of entries) {
      const upper = type.toUpperCase();
      if (!isClickType(upper)) throw new SettingValueError(`unknown click type "${type}" (expected ${CLICK_TYPES.join(', ')})`);
      const lower = typeof action === 'string' ? action.toLowerCase() : action;
      if (!isClickAction(lower)) {
        throw new SettingValueError(`unknown click action ${JSON.stringify(action)} for ${upper} (expected ${CLICK_ACTIONS.join(', ')})`);
      }
      actions[upper] = lower;
    }
    return actions;
  },
  format: (actions) => CLICK_TYPES.map((t) => `${t}=${actions[t]}`).join(','),
};

/** A target as text (a plug id, or `host[:port][#child]`) or an address already parsed. */
export type TargetSetting = string | PlugTarget;

const TARGET_SHAPE = 'a plug id or host[:port][#outlet]';

function target(value: unknown): TargetRef {
  try {
    if (typeof value === 'string') return parseTargetRef(value);
    if (typeof value === 'object' && value !== null) {
      const t = value as PlugTarget;
      return t.plug !== undefined ? { id: t.plug } : { address: parseTarget(formatTarget(t)) };
    }
  } catch (err) {
    throw new SettingValueError((err as Error).message, err);
  }
  throw new SettingValueError(`expected ${TARGET_SHAPE}, got ${JSON.stringify(value)}`);
}

/** Plug ids or `host[:port][#child]`, comma-separated, or a list of them (strings or parsed). Matched to the plugs in config.ts. */
export const targetsCodec: Codec<TargetRef[]> = {
  parse: (text) => targetsCodec.coerce!(text),
  coerce(value) {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    const list = items.flatMap((t) => (typeof t === 'string' ? t.split(',').filter((s) => s.trim() !== '') : [t]));
    if (list.length === 0) throw new SettingValueError(`no plug target given (expected ${TARGET_SHAPE}, comma-separated)`);
    return list.map(target);
  },
  format: (targets) => targets.map(formatTargetRef).join(','),
};

const SERIAL_TARGETS_SHAPE = '{"<button serial>": "<plug id>" or [targets]}';

/** Button serial → its targets: JSON (an object in cdk.json and settings, text in `-c` and the environment). */
export const serialTargetsCodec: Codec<Record<string, TargetRef[]>> = {
  parse: (text) => serialTargetsCodec.coerce!(text),
  coerce(value) {
    const raw = typeof value === 'string' ? jsonText(value) : value;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SettingValueError(`expected a JSON object ${SERIAL_TARGETS_SHAPE}`);
    const out: Record<string, TargetRef[]> = {};
    for (const [serial, targets] of Object.entries(raw as Record<string, unknown>)) {
      if (!SERIAL_PATTERN.test(serial)) throw new SettingValueError(`serial "${serial}" has characters other than letters, digits, . _ : -`);
      const list: unknown[] = Array.isArray(targets) ? targets : [targets];
      if (list.length === 0 || !list.every((t) => typeof t === 'string' || (typeof t === 'object' && t !== null))) {
        throw new SettingValueError(`serial ${serial}: expected ${TARGET_SHAPE} or a non-empty list of them`);
      }
      try {
        out[serial] = targetsCodec.coerce!(list);
      } catch (err) {
        if (err instanceof SettingValueError) throw new SettingValueError(`serial ${serial}: ${err.problem}`, err);
        throw err;
      }
    }
    return out;
  },
  format: (map) => JSON.stringify(Object.fromEntries(Object.entries(map).map(([serial, targets]) => [serial, targetsCodec.format(targets)]))),
};

export const PLUG_MODES = ['relay', 'direct'] as const;
export type PlugMode = (typeof PLUG_MODES)[number];

/** `id@hub=host[:port][#child]`, comma-separated, or a list of them (text or parsed). */
export const plugsCodec: Codec<PlugConfig[]> = {
  parse: (text) => plugsCodec.coerce!(text),
  coerce(value) {
    try {
      const items: unknown[] = Array.isArray(value) ? value : [value];
      const plugs = items.flatMap((p) => (typeof p === 'string' ? parsePlugList(p) : typeof p === 'object' && p !== null ? parsePlugList(formatPlug(p as PlugConfig)) : []));
      checkPlugs(plugs);
      return plugs;
    } catch (err) {
      throw new SettingValueError((err as Error).message, err);
    }
  },
  format: (plugs) => plugs.map(formatPlug).join(','),
};

/** A Secrets Manager secret's name, or its ARN (complete, or partial: without the 6-character suffix). */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
const secretIdProblem = (t: string) =>
  t === '' || SECRET_NAME.test(t) || SECRET_ARN.test(t) ? undefined : 'is neither a Secrets Manager secret name ([A-Za-z0-9/_+=.@-]) nor a secret ARN';

const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const BUTTON_SETTINGS = {
  defaultTargets: setting(targetsCodec, {
    env: BUTTON_ENV_NAMES.defaultTargets,
    ...(DOCS
      ? {
          type: 'plug id or host[:port][#outlet] list',
          defaultText: 'none (the stack: `plugHost:plugPort`)',
          description: `Plug(s) for any button without its own entry: ids of configured plugs (\`lamp,fan\`), or (direct mode) addresses, port 9999 unless given, \`#2\` outlet 2 of a strip (0-based), \`#<child id>\` an outlet by id. Required unless ${BUTTON_ENV_NAMES.serialTargets} names a button`,
        }
      : NO_TEXT),
    default: [] as TargetRef[],
  }),
  serialTargets: setting(serialTargetsCodec, {
    env: BUTTON_ENV_NAMES.serialTargets,
    context: 'buttonTargets',
    ...(DOCS
      ? {
          type: 'JSON object',
          defaultText: '`{}`',
          description: `Per button serial, its own plug(s), by plug id (or, direct mode, by address): \`{"G030JF05...": ["lamp", "fan"]}\``,
        }
      : NO_TEXT),
    default: {},
  }),
  clickActions: setting(clickActionsCodec, {
    env: BUTTON_ENV_NAMES.clickActions,
    context: 'clickActions',
    flag: '--click-actions <map>',
    ...(DOCS
      ? {
          type: `TYPE=action list (${CLICK_ACTIONS.join(', ')})`,
          description: 'What each click type does: `SINGLE=toggle,DOUBLE=on,LONG=off` or JSON; types left out toggle; `none` ignores the click',
        }
      : NO_TEXT),
    default: { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' } as ClickActions,
  }),
  maxClickAgeSeconds: setting(integer(1, 86_400), {
    env: BUTTON_ENV_NAMES.maxClickAgeSeconds,
    context: 'maxClickAgeSeconds',
    ...(DOCS ? { type: 'integer', unit: 's', range: [1, 86_400] as const, description: 'A click received longer ago than this is not acted on' } : NO_TEXT),
    default: 30,
  }),
  // An AAA alkaline cell reads ~1500 mV fresh under light load and is spent near 1100 mV; the
  // classic button reports ~1700 mV when new. Warn well before it stops sending.
  lowBatteryMillivolts: setting(integer(0, 10_000), {
    env: BUTTON_ENV_NAMES.lowBatteryMillivolts,
    context: 'lowBatteryMillivolts',
    ...(DOCS
      ? {
          type: 'integer',
          unit: 'mV',
          range: [0, 10_000] as const,
          description: 'Warn when the classic button reports a lower `batteryVoltage` (0: never)',
        }
      : NO_TEXT),
    default: 1300,
  }),
  lowBatteryPercent: setting(integer(0, 100), {
    env: BUTTON_ENV_NAMES.lowBatteryPercent,
    ...(DOCS
      ? {
          type: 'integer',
          unit: '%',
          range: [0, 100] as const,
          description: 'Warn when an IoT 1-Click button reports less `remainingLife` (0: never)',
        }
      : NO_TEXT),
    default: 10,
  }),
  snsTopicArn: setting(matching(SNS_ARN, 'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)'), {
    env: BUTTON_ENV_NAMES.snsTopicArn,
    ...(DOCS
      ? {
          type: 'ARN',
          defaultText: 'unset',
          description: 'Publish outcomes here (the stack sets its topic); unset: no SNS client is loaded',
        }
      : NO_TEXT),
  }),
  connectTimeoutMs: setting(integer(100, 60_000), {
    env: BUTTON_ENV_NAMES.connectTimeoutMs,
    ...(DOCS
      ? {
          type: 'integer',
          unit: 'ms',
          range: [100, 60_000] as const,
          description: 'Per plug connection',
        }
      : NO_TEXT),
    default: 2_000,
  }),
  requestTimeoutMs: setting(integer(100, 60_000), {
    env: BUTTON_ENV_NAMES.requestTimeoutMs,
    ...(DOCS
      ? {
          type: 'integer',
          unit: 'ms',
          range: [100, 60_000] as const,
          description: 'Per plug request',
        }
      : NO_TEXT),
    default: 3_000,
  }),
  dedupeCapacity: setting(integer(1, 1_000_000), {
    env: BUTTON_ENV_NAMES.dedupeCapacity,
    ...(DOCS
      ? {
          type: 'integer',
          range: [1, 1_000_000] as const,
          description: 'Request ids a warm container remembers',
        }
      : NO_TEXT),
    default: 1_000,
  }),
  plugMode: setting(oneOf(PLUG_MODES, true), {
    env: BUTTON_ENV_NAMES.plugMode,
    ...(DOCS
      ? {
          type: PLUG_MODES.join(' | '),
          defaultText: '`relay`',
          description: '`relay`: switch through each plug’s shadow `plug-<id>` on its hub (no port open to the home); `direct`: straight to the plug (XOR on TCP 9999, KLAP/AES on HTTP)',
        }
      : NO_TEXT),
    default: 'relay' as PlugMode,
  }),
  plugs: setting(plugsCodec, {
    env: BUTTON_ENV_NAMES.plugs,
    ...(DOCS
      ? {
          type: 'id@hub=host[:port][#outlet] list',
          defaultText: 'none',
          description: 'Every plug, its hub thing and its LAN address; targets name them by id. Relay mode: each target must be one of them; direct mode: an id is switched at its address (the hub is unused)',
        }
      : NO_TEXT),
    default: [] as PlugConfig[],
  }),
  confirmTimeoutMs: setting(integer(0, 60_000), {
    env: BUTTON_ENV_NAMES.confirmTimeoutMs,
    ...(DOCS
      ? {
          type: 'integer',
          unit: 'ms',
          range: [0, 60_000] as const,
          description: 'Relay mode: how long to wait for the hub to answer a request before reporting "not yet confirmed"',
        }
      : NO_TEXT),
    default: 5_000,
  }),
  iotDataEndpoint: setting(
    text((t) => (t === '' || /^https?:\/\/[^\s/]+/.test(t) ? undefined : 'is not an http(s) URL')),
    {
      env: SHARED_ENV_NAMES.iotDataEndpoint,
      default: '',
      ...(DOCS ? { type: 'URL', defaultText: "the region's", description: 'Relay mode: the IoT data-plane endpoint' } : NO_TEXT),
    },
  ),
  plugCredentialsSecret: setting(text(secretIdProblem), {
    env: BUTTON_ENV_NAMES.plugCredentialsSecret,
    context: 'plugCredentialsSecret',
    ...(DOCS
      ? {
          type: 'secret name or ARN',
          defaultText: 'none (KLAP/AES plugs are tried with the well-known default credentials)',
          description: 'Direct mode only: the Secrets Manager secret (name, or ARN) holding the TP-Link account as `{"username": ..., "password": ...}`, read when a KLAP or AES plug first needs it, once per warm container; the button function may read this secret and no other (refused in relay mode: the credentials stay on the LAN)',
        }
      : NO_TEXT),
    default: '',
  }),
  logLevel: logLevelSetting,
};

export type ButtonSettingName = keyof typeof BUTTON_SETTINGS;
