/**
 * The button function's settings, declared once, keyed by field name (its environment variable
 * and the types of settings and config derive from it); their text for people is in
 * settings-text.ts, so the Lambda bundle does not carry it. Pure.
 */
import { integer, jsonText, logLevelSetting, matching, oneOf, text } from '../settings/codecs';
import { formatPlug, parsePlugList, checkPlugs, type PlugConfig } from '../plug-relay/config';
import { codec, setting, SettingValueError, type Codec } from '../settings/schema';
import { isObject } from '../util/guards';
import { CLICK_ACTIONS, CLICK_TYPES, SERIAL_PATTERN, isClickAction, isClickType, type ClickAction, type ClickType } from './click';
import { formatTarget, formatTargetRef, parseTarget, parseTargetRef, type PlugTarget, type TargetRef } from './targets';

export type ClickActions = Record<ClickType, ClickAction>;

const CLICK_ACTIONS_SHAPE = `TYPE=action[,TYPE=action] or {"${CLICK_TYPES.join('"|"')}": "${CLICK_ACTIONS.join('"|"')}"}`;

/** `SINGLE=toggle,DOUBLE=on` or `{"SINGLE":"toggle"}`; types left out toggle. The one parser of click actions. */
export const clickActionsCodec: Codec<ClickActions> = codec(
  (value) => {
    let entries: [string, unknown][];
    const raw = typeof value === 'string' ? jsonText(value) : value;
    if (typeof raw === 'string') {
      entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((pair) => {
        const [type, action, extra] = pair.split('=').map((s) => s.trim());
        if (extra !== undefined || action === undefined) throw new SettingValueError(`"${pair}" is not TYPE=action`);
        return [type!, action];
      });
    } else if (isObject(raw)) {
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
  (actions) => CLICK_TYPES.map((t) => `${t}=${actions[t]}`).join(','),
);

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
export const targetsCodec: Codec<TargetRef[]> = codec(
  (value) => {
    const items: unknown[] = Array.isArray(value) ? value : [value];
    const list = items.flatMap((t) => (typeof t === 'string' ? t.split(',').filter((s) => s.trim() !== '') : [t]));
    if (list.length === 0) throw new SettingValueError(`no plug target given (expected ${TARGET_SHAPE}, comma-separated)`);
    return list.map(target);
  },
  (targets) => targets.map(formatTargetRef).join(','),
);

const SERIAL_TARGETS_SHAPE = '{"<button serial>": "<plug id>" or [targets]}';

/** Button serial → its targets: JSON (an object in cdk.json and settings, text in `-c` and the environment). */
export const serialTargetsCodec: Codec<Record<string, TargetRef[]>> = codec(
  (value) => {
    const raw = typeof value === 'string' ? jsonText(value) : value;
    if (!isObject(raw)) throw new SettingValueError(`expected a JSON object ${SERIAL_TARGETS_SHAPE}`);
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
  (map) => JSON.stringify(Object.fromEntries(Object.entries(map).map(([serial, targets]) => [serial, targetsCodec.format(targets)]))),
);

export const PLUG_MODES = ['relay', 'direct'] as const;
export type PlugMode = (typeof PLUG_MODES)[number];

/** `id@hub=host[:port][#child]`, comma-separated, or a list of them (text or parsed). */
export const plugsCodec: Codec<PlugConfig[]> = codec(
  (value) => {
    try {
      const items: unknown[] = Array.isArray(value) ? value : [value];
      const plugs = items.flatMap((p) => (typeof p === 'string' ? parsePlugList(p) : typeof p === 'object' && p !== null ? parsePlugList(formatPlug(p as PlugConfig)) : []));
      checkPlugs(plugs);
      return plugs;
    } catch (err) {
      throw new SettingValueError((err as Error).message, err);
    }
  },
  (plugs) => plugs.map(formatPlug).join(','),
);

/** A Secrets Manager secret's name, or its ARN (complete, or partial: without the 6-character suffix). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
const secretIdProblem = (t: string) =>
  t === '' || SECRET_NAME.test(t) || SECRET_ARN.test(t) ? undefined : 'is neither a Secrets Manager secret name ([A-Za-z0-9/_+=.@-]) nor a secret ARN';

const SNS_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

export const BUTTON_SETTINGS = {
  defaultTargets: setting(targetsCodec, { default: [] as TargetRef[] }),
  serialTargets: setting(serialTargetsCodec, { default: {} }),
  clickActions: setting(clickActionsCodec, { flag: '--click-actions <map>', default: { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' } as ClickActions }),
  maxClickAgeSeconds: setting(integer(1, 86_400), { default: 30 }),
  // An AAA alkaline cell reads ~1500 mV fresh under light load and is spent near 1100 mV; the
  // classic button reports ~1700 mV when new. Warn well before it stops sending.
  lowBatteryMillivolts: setting(integer(0, 10_000), { default: 1300 }),
  lowBatteryPercent: setting(integer(0, 100), { default: 10 }),
  snsTopicArn: setting(matching(SNS_ARN, 'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)'), {}),
  connectTimeoutMs: setting(integer(100, 60_000), { default: 2_000 }),
  requestTimeoutMs: setting(integer(100, 60_000), { default: 3_000 }),
  dedupeCapacity: setting(integer(1, 1_000_000), { default: 1_000 }),
  plugMode: setting(oneOf(PLUG_MODES, true), { default: 'relay' as PlugMode }),
  plugs: setting(plugsCodec, { default: [] as PlugConfig[] }),
  confirmTimeoutMs: setting(integer(0, 60_000), { default: 5_000 }),
  iotDataEndpoint: setting(text((t) => (t === '' || /^https?:\/\/[^\s/]+/.test(t) ? undefined : 'is not an http(s) URL')), { default: '' }),
  plugCredentialsSecret: setting(text(secretIdProblem), { default: '' }),
  logLevel: logLevelSetting,
};

export type ButtonSettingName = keyof typeof BUTTON_SETTINGS;
