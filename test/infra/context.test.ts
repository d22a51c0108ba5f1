import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkContextKeys, parseStackSettings, type ContextReader } from '../../lib/context';
import { ContextError } from '../../lib/errors';

const CDK_JSON = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> };

/** cdk.json's defaults with overrides, `undefined` removing a key — as `-c` does on top of cdk.json. */
function reader(overrides: Record<string, unknown> = {}): ContextReader {
  const context: Record<string, unknown> = { ...CDK_JSON.context, ...overrides };
  return (key) => context[key];
}

function contextError(overrides: Record<string, unknown>): ContextError {
  try {
    parseStackSettings(reader(overrides));
  } catch (err) {
    if (err instanceof ContextError) return err;
    throw err;
  }
  throw new Error(`no ContextError for ${JSON.stringify(overrides)}`);
}

describe('stack context', () => {
  it('has one default thing, shadowplug-device, which cdk.json does not set (so -c thingNames=a,b works)', () => {
    expect(CDK_JSON.context).not.toHaveProperty('thingName');
    expect(CDK_JSON.context).not.toHaveProperty('thingNames');
    expect(parseStackSettings(reader()).thingNames).toEqual(['shadowplug-device']);
    expect(parseStackSettings(reader({ thingNames: 'a,b' })).thingNames).toEqual(['a', 'b']);
  });

  it('accepts the defaults in cdk.json', () => {
    const settings = parseStackSettings(reader());
    expect(settings).toMatchObject({
      plugHost: '192.0.2.10',
      plugPort: 9999,
      thingNames: ['shadowplug-device'],
      clickActions: { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' },
      buttonTopicFilter: 'iotbutton/+',
      shadowProperty: 's3',
      keyPrefix: '',
      scopeObjectsPerThing: false,
      certificates: {},
      credentialDurationSeconds: 3600,
    });
    expect(settings.shadowName).toBeUndefined();
    expect(settings.notifyEmail).toBeUndefined();
  });

  it('reads -c values, which always arrive as strings', () => {
    const settings = parseStackSettings(
      reader({
        plugHost: 'plug.example.net',
        plugPort: '10000',
        scopeObjectsPerThing: 'true',
        thingNames: 'kitchen,hall',
        clickActions: 'SINGLE=on,long=off',
        buttonTargets: '{"G030JF0512345678":["192.168.1.20","192.168.1.21:9999#1"]}',
        maxClickAgeSeconds: '45',
        credentialDurationSeconds: '900',
        notifyEmail: 'me@example.com',
        shadowName: 'files',
        keyPrefix: 'uploads/',
      }),
    );
    expect(settings).toMatchObject({
      plugHost: 'plug.example.net',
      plugPort: 10000,
      scopeObjectsPerThing: true,
      thingNames: ['kitchen', 'hall'],
      clickActions: { SINGLE: 'on', DOUBLE: 'toggle', LONG: 'off' },
      buttonTargets: { G030JF0512345678: [{ host: '192.168.1.20', port: 9999 }, { host: '192.168.1.21', port: 9999, child: 1 }] },
      maxClickAgeSeconds: 45,
      credentialDurationSeconds: 900,
      notifyEmail: 'me@example.com',
      shadowName: 'files',
      keyPrefix: 'uploads/',
    });
  });

  it.each(['192.168.1.20', 'fd00::5', '::ffff:192.168.1.20', 'plug.dyndns.example.org', 'localhost'])('accepts the plug host %s', (host) => {
    expect(parseStackSettings(reader({ plugHost: host })).plugHost).toBe(host);
  });

  it.each(['192.168.1.20:9999', 'fd00:::5', '1:2:3:4:5:6:7:8:9', '-plug.lan', 'plug_1.lan', 'a/b'])('rejects the plug host %s', (host) => {
    expect(contextError({ plugHost: host }).key).toBe('plugHost');
  });

  it('accepts a shadow name with $, as the shadow service and the function do', () => {
    expect(parseStackSettings(reader({ shadowName: '$files' })).shadowName).toBe('$files');
  });

  it('checks button targets when reading context, naming the key', () => {
    expect(contextError({ buttonTargets: '{"G030":"plug.lan:99999"}' }).message).toMatch(/context "buttonTargets": serial G030: invalid plug address "plug.lan:99999"/);
  });

  it('accepts JSON lists and objects written in cdk.json', () => {
    const settings = parseStackSettings(reader({ thingNames: ['a', 'b'], buttonTargets: { S1: 'plug.lan' } }));
    expect(settings.thingNames).toEqual(['a', 'b']);
    // Relay mode (the default) with no plugs given: each target by address becomes a plug on the first thing.
    expect(settings.buttonTargets).toEqual({ S1: [{ host: 'plug.lan', port: 9999, plug: 'plug-2' }] });
  });

  describe('button targets reference configured plugs by id', () => {
    const plugs = 'lamp@kitchen=192.168.1.20,fan@hall=192.168.1.30:9998,desk@hall=192.168.1.40#1';

    it('resolves ids in buttonTargets and defaultTargets to the plugs (relay, the default)', () => {
      const settings = parseStackSettings(
        reader({ thingNames: 'kitchen,hall', plugs, defaultTargets: 'lamp', buttonTargets: { G030JF0512345678: ['fan', 'desk'] } }),
      );
      expect(settings.defaultTargets).toEqual([{ host: '192.168.1.20', port: 9999, plug: 'lamp' }]);
      expect(settings.buttonTargets).toEqual({
        G030JF0512345678: [
          { host: '192.168.1.30', port: 9998, plug: 'fan' },
          { host: '192.168.1.40', port: 9999, child: 1, plug: 'desk' },
        ],
      });
    });

    it('refuses an unknown id, naming it, the configured ids and the key', () => {
      const err = contextError({ thingNames: 'kitchen,hall', plugs, defaultTargets: 'lamp', buttonTargets: { G030: ['fan', 'heater'] } });
      expect(err.message).toBe('context "buttonTargets": serial G030: "heater" is not a configured plug id (configured: lamp, fan, desk)');
      expect(contextError({ thingNames: 'kitchen,hall', plugs, defaultTargets: 'lmap' }).message).toMatch(/context "defaultTargets": "lmap" is not a configured plug id/);
    });

    it('relay mode: a target address that is no configured plug says which id to configure', () => {
      const err = contextError({ thingNames: 'kitchen,hall', plugs, defaultTargets: 'lamp', buttonTargets: { G030: '192.168.1.99' } });
      expect(err.message).toMatch(/context "buttonTargets": serial G030: 192\.168\.1\.99:9999 is not a configured plug \(configured: lamp, fan, desk\): configure it in plugs as <id>@<hub>=192\.168\.1\.99:9999/);
      expect(contextError({ thingNames: 'kitchen,hall', plugs }).message).toMatch(/context "plugs": 192\.0\.2\.10:9999 is not a configured plug .*plugHost:plugPort is the default target; or set defaultTargets to plug ids/);
    });

    it('direct mode: ids are switched at their address, bare addresses as they are', () => {
      const settings = parseStackSettings(reader({ plugMode: 'direct', plugs, buttonTargets: { G030: ['desk', '10.0.0.9'] } }));
      expect(settings.buttonTargets).toEqual({ G030: [{ host: '192.168.1.40', port: 9999, child: 1, plug: 'desk' }, { host: '10.0.0.9', port: 9999 }] });
      expect(contextError({ plugMode: 'direct', plugs, buttonTargets: { G030: 'heater' } }).message).toMatch(/context "buttonTargets": serial G030: "heater" is not a configured plug id/);
    });
  });

  it('attaches one certificate ARN to the only thing, or a map to several', () => {
    const arn = `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}`;
    expect(parseStackSettings(reader({ certificateArn: arn })).certificates).toEqual({ 'shadowplug-device': arn });
    const map = parseStackSettings(reader({ thingNames: 'a,b', certificateArn: JSON.stringify({ b: arn }) }));
    expect(map.certificates).toEqual({ b: arn });
  });

  describe('rejects bad values, naming the key', () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a URL as plugHost', { plugHost: 'http://192.168.1.20' }, /context "plugHost": "http:\/\/192.168.1.20" is not a host name/],
      ['an IPv4 address out of range', { plugHost: '192.168.1.256' }, /context "plugHost"/],
      ['host:port in plugHost', { plugHost: '192.168.1.20:9999:1' }, /context "plugHost"/],
      ['a missing plugHost', { plugHost: undefined }, /context "plugHost": is required/],
      ['a port out of range', { plugPort: '70000' }, /context "plugPort": expected a whole number from 1 to 65535/],
      ['an unknown click action', { clickActions: 'SINGLE=explode' }, /context "clickActions": unknown click action "explode" for SINGLE/],
      ['an unknown click type', { clickActions: { TRIPLE: 'on' } }, /context "clickActions": unknown click type "TRIPLE"/],
      ['clickActions that are not pairs', { clickActions: 'SINGLE' }, /context "clickActions"/],
      ['broken JSON', { buttonTargets: '{"S1": ' }, /context "buttonTargets": is not valid JSON/],
      ['a button with no targets', { buttonTargets: { S1: [] } }, /context "buttonTargets": serial S1/],
      ['both thingName and thingNames', { thingName: 'y', thingNames: 'x' }, /context "thingNames": set either/],
      ['a bad thing name', { thingName: 'my thing' }, /context "thingName": "my thing" is not a thing name/],
      ['a duplicate thing', { thingNames: 'a,a' }, /context "thingNames": "a" is listed twice/],
      ['a bad shadow name', { shadowName: 'a/b' }, /context "shadowName"/],
      ['a bad shadow property', { shadowProperty: 'a.b' }, /context "shadowProperty"/],
      ['a key prefix with a leading slash', { keyPrefix: '/uploads/' }, /context "keyPrefix"/],
      ['a wildcard key prefix', { keyPrefix: 'up*' }, /context "keyPrefix"/],
      ['a non-boolean flag', { scopeObjectsPerThing: 'yes' }, /context "scopeObjectsPerThing": expected true or false/],
      ['a topic filter with a quote', { buttonTopicFilter: "iotbutton/+' OR 1=1" }, /context "buttonTopicFilter"/],
      ['a topic filter with # mid-way', { buttonTopicFilter: 'a/#/b' }, /context "buttonTopicFilter"/],
      ['a reserved topic', { buttonTopicFilter: '$aws/things/+/shadow/update' }, /context "buttonTopicFilter"/],
      ['a bad email', { notifyEmail: 'me-at-home' }, /context "notifyEmail"/],
      ['credentials shorter than IoT allows', { credentialDurationSeconds: 60 }, /context "credentialDurationSeconds": expected a whole number from 900 to 43200/],
      ['a malformed certificate ARN', { certificateArn: 'arn:aws:iot:eu-west-1:123:cert/xyz' }, /context "certificateArn"/],
      ['one certificate for two things', { thingNames: 'a,b', certificateArn: `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}` }, /context "certificateArn": one ARN cannot serve 2 things/],
      ['a certificate for an unknown thing', { certificateArn: { other: `arn:aws:iot:eu-west-1:123456789012:cert/${'a'.repeat(64)}` } }, /context "certificateArn": names thing "other"/],
    ];
    it.each(cases)('%s', (_name, overrides, message) => {
      const err = contextError(overrides);
      expect(err.message).toMatch(message);
      expect(err.code).toBe('CDK_BAD_CONTEXT');
    });
  });

  describe('refuses near-misses of its keys, which would otherwise be ignored', () => {
    it.each([
      ['plughost', 'plugHost'],
      ['plug-host', 'plugHost'],
      ['thing_name', 'thingName'],
      ['KEYPREFIX', 'keyPrefix'],
    ])('%s', (typo, meant) => {
      expect(() => checkContextKeys(['cli-telemetry', typo])).toThrow(`context "${typo}": is not a setting; did you mean "${meant}"?`);
    });

    it("leaves everyone else's keys alone", () => {
      expect(() => checkContextKeys([...Object.keys(CDK_JSON.context), 'aws:cdk:bundling-stacks', '@aws-cdk/core:newStyleStackSynthesis'])).not.toThrow();
    });
  });
});
