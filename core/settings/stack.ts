/**
 * Every CDK context key the stack reads, declared once, keyed by the context key. Keys that
 * configure a function directly reuse that function's setting (same codec, same checks). Pure.
 */
import { DOCUMENTED_BUTTON_SETTINGS } from '../button/settings-text';
import { OBJECT_SETTINGS, thingNameCodec, unsafeKeyReason } from '../s3/settings';
import { FANOUT_SETTINGS } from '../fleet/settings';
import { isValidHost } from '../tplink/address';
import { boolean, integer, jsonText, listOf, matching, text } from './codecs';
import { codec, envName, setting, settingsOf, SettingValueError, type Codec } from './schema';
import { parseRolloutContext, type RolloutContext } from '../jobs/rollout-config';
import { isObject } from '../util/guards';

/** An MQTT topic filter for the rule's FROM clause: `+`/`#` whole levels, `#` last, no quote (spliced into SQL), no `$`. */
function topicFilterProblem(filter: string): string | undefined {
  const levels = filter.split('/');
  const bad =
    filter.length === 0 ||
    filter.length > 256 ||
    filter.startsWith('$') ||
    /['"\\\s]/.test(filter) ||
    levels.some((level, i) => (level.includes('+') && level !== '+') || (level.includes('#') && (level !== '#' || i !== levels.length - 1)));
  return bad ? `"${filter}" is not an MQTT topic filter like iotbutton/+` : undefined;
}

function keyPrefixProblem(prefix: string): string | undefined {
  const unsafe = unsafeKeyReason(prefix);
  if (unsafe !== undefined) return `"${prefix}": devices refuse every key under it (${unsafe})`;
  if (/[*?]|\$\{/.test(prefix)) return `"${prefix}" must not contain wildcards or policy variables (*, ?, \${...})`;
  if (new TextEncoder().encode(prefix).length > 1024) return 'is longer than an S3 key may be (1024 bytes)';
  return undefined;
}

const CERTIFICATE_ARN = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:cert\/[0-9a-f]{64}$/;

/** One certificate ARN, or a JSON object thing name → ARN (which things exist is checked by the reader). */
const certificatesCodec: Codec<string | Record<string, string>> = codec(
  (value) => {
    const raw = typeof value === 'string' ? jsonText(value) : value;
    const check = (arn: unknown): string => {
      if (typeof arn !== 'string' || !CERTIFICATE_ARN.test(arn.trim())) {
        throw new SettingValueError(`${JSON.stringify(arn)} is not an IoT certificate ARN (arn:aws:iot:<region>:<account>:cert/<64 hex>)`);
      }
      return arn.trim();
    };
    if (typeof raw === 'string') return check(raw);
    if (!isObject(raw)) throw new SettingValueError('expected a certificate ARN or {"<thing>": "<arn>"}');
    return Object.fromEntries(Object.entries(raw).map(([thing, arn]) => [thing, check(arn)]));
  },
  (v) => (typeof v === 'string' ? v : JSON.stringify(v)),
);

/**
 * Who may sign releases with the stack's KMS key: one IAM role or user, by ARN. A session ARN
 * would stop working with the session; the account root would let any IAM policy there grant signing.
 */
function publisherProblem(arn: string): string | undefined {
  const session = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/([^/]+)\//.exec(arn);
  if (session) return `"${arn}" is one session of a role (the next session has another name): give the role, arn:aws:iam::<account>:role/<path>${session[1]} (aws iam get-role --role-name ${session[1]} --query Role.Arn)`;
  if (/^arn:aws[a-z-]*:iam::\d{12}:root$/.test(arn) || /^\d{12}$/.test(arn)) return `"${arn}" is the whole account, so any IAM policy there could grant signing: name one role or user`;
  const principal = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
  if (!principal.test(arn) || arn.length > 2048) return `"${arn}" is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name> or :user/<name>, no wildcards)`;
  return undefined;
}

/** Roll-out mode's context value; its problems are reported under the key like any other. */
const rolloutCodec: Codec<RolloutContext> = codec(
  (value) => {
    try {
      return parseRolloutContext(value, 'rollout');
    } catch (err) {
      throw new SettingValueError((err as Error).message.replace(/^rollout\.?/, '').replace(/^: /, ''));
    }
  },
  (v) => JSON.stringify(v),
);

/** A function setting that a context key of the same meaning sets (`field`: the setting it feeds). */
const sets = <S extends object>(s: S, field: string): S & { feeds: string } => ({ ...s, feeds: field });
const B = DOCUMENTED_BUTTON_SETTINGS;

/** Keyed by context key. */
export const STACK_SETTINGS = {
  plugHost: setting(
    text((host) => (isValidHost(host) ? undefined : `"${host}" is not a host name or IPv4 address (no scheme, no port, no path)`)),
    { feeds: 'defaultTargets', defaultText: '(placeholder; required)', description: 'The plug every button without its own entry switches (no scheme, no port)' },
  ),
  plugPort: setting(integer(1, 65_535), { feeds: 'defaultTargets', default: 9999, description: "The plug's TCP port" }),
  defaultTargets: {
    ...sets(B.defaultTargets, 'defaultTargets'),
    default: undefined,
    defaultText: '`plugHost:plugPort` (the plug `plug`)',
    description: 'Instead of plugHost/plugPort: the plug(s) any button without its own entry switches, by plug id (`lamp,fan`), comma-separated or a JSON list',
  },
  buttonTargets: sets(B.serialTargets, 'serialTargets'),
  plugMode: {
    ...sets(B.plugMode, 'plugMode'),
    description:
      '`relay`: the button function switches each plug through its shadow `plug-<id>` on its hub thing, whose agent drives the plug on the LAN (no port open to the internet); `direct`: the function reaches the plug itself — XOR on TCP 9999, KLAP/AES on HTTP port 80 (needs a port forward; KLAP/AES plugs also `plugCredentialsSecret`)',
  },
  plugs: {
    ...sets(B.plugs, 'plugs'),
    defaultText: 'every button target, as plugs `plug`, `plug-2`, … on the first thing',
    description: 'Every plug as `id@hub=host[:port][#outlet]` (comma-separated or a JSON list), referenced by id from `defaultTargets`/`buttonTargets`; relay mode: the hub is one of the things and every button target must be one of the plugs',
  },
  clickActions: sets(B.clickActions, 'clickActions'),
  plugCredentialsSecret: sets(B.plugCredentialsSecret, 'plugCredentialsSecret'),
  buttonTopicFilter: setting(text(topicFilterProblem), { default: 'iotbutton/+', description: "The topic rule's MQTT topic filter" }),
  maxClickAgeSeconds: sets(B.maxClickAgeSeconds, 'maxClickAgeSeconds'),
  lowBatteryMillivolts: sets(B.lowBatteryMillivolts, 'lowBatteryMillivolts'),
  // Each thing adds resources and outputs (CloudFormation allows 200 outputs); past 50 use a fleet tool.
  thingNames: setting(listOf(thingNameCodec, { min: 1, max: 50, noun: 'thing name' }), { feeds: 'targetThings', range: [1, 50], defaultText: 'none', description: 'Several devices: `a,b` or a JSON array' }),
  thingName: setting(thingNameCodec, {
    feeds: 'targetThings',
    defaultText: '`shadowplug-device` (when `thingNames` is not set either)',
    description: 'The device (IoT thing); or use `thingNames`, not both',
  }),
  thingGroups: {
    ...sets(OBJECT_SETTINGS.thingGroups, 'thingGroups'),
    // The fleet is named here once: roll-out jobs target the same groups.
    description: `${OBJECT_SETTINGS.thingGroups.description}; with \`rollout\`, each roll-out job targets these groups (and \`thingNames\`) too`,
  },
  fanOutWritesPerSecond: FANOUT_SETTINGS.writesPerSecond,
  shadowProperty: sets(OBJECT_SETTINGS.shadowProperty, 'shadowProperty'),
  shadowName: sets(OBJECT_SETTINGS.shadowName, 'shadowName'),
  keyPrefix: setting(text(keyPrefixProblem), {
    feeds: 'thingPrefix',
    default: '',
    defaultText: 'whole bucket',
    description: 'Only keys under this prefix reach the S3 Lambda (and devices may read only there)',
  }),
  scopeObjectsPerThing: setting(boolean(), {
    default: false,
    description: 'When `true`, a device may read only `<keyPrefix>things/<its thing name>/…`, and a key outside those goes to no device',
  }),
  certificateArn: setting(certificatesCodec, {
    defaultText: 'none',
    description: 'Attach the device policy and the thing to an existing certificate: one ARN (with one thing) or `{"<thing>": "<arn>"}`',
  }),
  notifyEmail: setting(matching(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address'), { defaultText: 'none', description: 'Subscribe this address to the outcomes topic (confirm the mail AWS sends)' }),
  credentialDurationSeconds: setting(integer(900, 43_200), { unit: 's', default: 3600, description: "Lifetime of a device's temporary credentials" }),
  rollout: setting(rolloutCodec, {
    defaultText: 'off (the shadow path)',
    description:
      'Staged roll-outs (docs/rollout.md): `{"keyPrefix":"releases/"}` makes each upload under keyPrefix one IoT Job for the fleet the shadow path reaches (`thingNames` and `thingGroups`, named there, not here), plus CreateJob\'s own `jobExecutionsRolloutConfig`, `abortConfig`, `timeoutConfig` (defaults: 5 first, ×2 per 5 successes; abort at 10 % failures after 10; 60-minute timeout)',
  }),
  releasePublisher: setting(text(publisherProblem), {
    defaultText: 'none (no signing key)',
    description:
      'Creates the release-signing KMS key (ECC_NIST_P256, SIGN_VERIFY, kept when the stack is deleted) and lets this IAM role or user — no one else — sign with it (`kms:Sign`, `kms:GetPublicKey`): `arn:aws:iam::<account>:role/<name>`; it must exist before the deploy (docs/deploy.md, "Signed releases")',
  }),
  tracing: setting(boolean(), { default: false, description: 'When `true`, both functions trace with AWS X-Ray (active tracing; traces are billed)' }),
};

export type StackSettingName = keyof typeof STACK_SETTINGS;

/** The function variable a context key sets, if any. */
export function feedsOf(s: { feeds?: string }): string | undefined {
  return s.feeds === undefined ? undefined : envName(s.feeds);
}

/** Function variable → the context key it is made from (the first key that sets it), for messages about the variable. */
export function contextKeyOfVariable(): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, s] of settingsOf(STACK_SETTINGS)) {
    const variable = feedsOf(s);
    if (variable !== undefined) out[variable] ??= key;
  }
  return out;
}
