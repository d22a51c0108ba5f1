import { describe, expect, it } from 'vitest';
import {
  BUTTON_ENV,
  buttonFunctionEnvironment,
  parseButtonConfig,
  targetsFor,
  worstCaseClickMs,
} from '../../../core/button/config';
import { ConfigError } from '../../../core/errors';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('BUTTON_CONFIG_INVALID');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseButtonConfig', () => {
  it('gives the defaults: relay mode, every click toggles, 30 s max age, no topic', () => {
    const config = parseButtonConfig({ SHADOWPLUG_DEFAULT_TARGETS: 'lamp', SHADOWPLUG_PLUGS: 'lamp@hub-1=192.168.1.20' });
    expect(config).toEqual({
      defaultTargets: [{ host: '192.168.1.20', port: 9999, plug: 'lamp' }],
      serialTargets: {},
      clickActions: { SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'toggle' },
      maxClickAgeSeconds: 30,
      lowBatteryMillivolts: 1300,
      lowBatteryPercent: 10,
      connectTimeoutMs: 2_000,
      requestTimeoutMs: 3_000,
      dedupeCapacity: 1_000,
      plugMode: 'relay',
      plugs: [{ id: 'lamp', hub: 'hub-1', host: '192.168.1.20', port: 9999 }],
      confirmTimeoutMs: 5_000,
      iotDataEndpoint: '',
      plugCredentialsSecret: '',
      logLevel: 'info',
    });
  });

  it('reads the plug credentials secret by name or ARN (direct mode), and names the variable when it is neither', () => {
    const arn = 'arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:shadowplug/tplink-AbC123';
    for (const id of ['shadowplug/tplink', arn]) {
      expect(parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20', SHADOWPLUG_PLUG_CREDENTIALS_SECRET: id }).plugCredentialsSecret).toBe(id);
    }
    expect(() => parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20', SHADOWPLUG_PLUG_CREDENTIALS_SECRET: 'my secret!' })).toThrow(
      /^SHADOWPLUG_PLUG_CREDENTIALS_SECRET: .*neither a Secrets Manager secret name/,
    );
  });

  it('refuses a credentials secret in relay mode: the credentials stay on the LAN', () => {
    const env = {
      SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20',
      SHADOWPLUG_PLUG_MODE: 'relay',
      SHADOWPLUG_PLUGS: 'lamp@hub-1=192.168.1.20',
      SHADOWPLUG_PLUG_CREDENTIALS_SECRET: 'shadowplug/tplink',
    };
    expect(() => parseButtonConfig(env)).toThrow(/^SHADOWPLUG_PLUG_CREDENTIALS_SECRET: is for direct mode/);
  });

  it('reads relay mode: the plugs, the confirmation wait and the data-plane endpoint', () => {
    const config = parseButtonConfig({
      SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20,192.168.1.21#1',
      SHADOWPLUG_PLUG_MODE: 'RELAY',
      SHADOWPLUG_PLUGS: 'lamp@hub-1=192.168.1.20, fan@hub-2=192.168.1.21#1',
      SHADOWPLUG_CONFIRM_TIMEOUT_MS: '2000',
      SHADOWPLUG_IOT_DATA_ENDPOINT: 'https://data.iot.example',
    });
    expect(config).toMatchObject({ plugMode: 'relay', confirmTimeoutMs: 2_000, iotDataEndpoint: 'https://data.iot.example' });
    expect(config.plugs).toEqual([
      { id: 'lamp', hub: 'hub-1', host: '192.168.1.20', port: 9999 },
      { id: 'fan', hub: 'hub-2', host: '192.168.1.21', port: 9999, child: 1 },
    ]);
  });

  it('refuses relay mode with a target that is no configured plug, and a bad plug entry, naming the variable', () => {
    const plugs = 'lamp@hub-1=192.168.1.20';
    expect(() => parseButtonConfig({ SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.21', SHADOWPLUG_PLUGS: plugs, SHADOWPLUG_PLUG_MODE: 'relay' })).toThrow(
      /SHADOWPLUG_DEFAULT_TARGETS: 192\.168\.1\.21:9999 is not a configured plug \(configured: lamp\): configure it in plugs as <id>@<hub>=192\.168\.1\.21:9999/,
    );
    expect(() => parseButtonConfig({ SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20', SHADOWPLUG_PLUGS: 'lamp=192.168.1.20' })).toThrow(/SHADOWPLUG_PLUGS: .*id@hub=host/);
    expect(() => parseButtonConfig({ SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20', SHADOWPLUG_PLUG_MODE: 'tcp' })).toThrow(/SHADOWPLUG_PLUG_MODE/);
  });

  it('fails at cold start in relay mode (the default) with no plugs, saying how to configure them or choose direct', () => {
    const err = configError(() => parseButtonConfig({ SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20' }));
    expect(err.variable).toBe('SHADOWPLUG_PLUGS');
    expect(err.message).toMatch(/SHADOWPLUG_PLUGS: is empty, and SHADOWPLUG_PLUG_MODE is relay \(the default\): configure every plug as id@hub=host\[:port\]\[#outlet\], or set SHADOWPLUG_PLUG_MODE to direct/);
  });

  it('references plugs by id from the default and per-serial targets, in relay mode', () => {
    const config = parseButtonConfig({
      SHADOWPLUG_PLUGS: 'lamp@hub-1=192.168.1.20,fan@hub-1=192.168.1.30:9998,desk@hub-2=192.168.1.40#1',
      SHADOWPLUG_DEFAULT_TARGETS: 'lamp',
      SHADOWPLUG_SERIAL_TARGETS: JSON.stringify({ G030JF05: ['fan', 'desk'], G030B: 'lamp' }),
    });
    expect(config.defaultTargets).toEqual([{ host: '192.168.1.20', port: 9999, plug: 'lamp' }]);
    expect(targetsFor(config, 'G030JF05')).toEqual([
      { host: '192.168.1.30', port: 9998, plug: 'fan' },
      { host: '192.168.1.40', port: 9999, child: 1, plug: 'desk' },
    ]);
  });

  it('refuses an unknown plug id naming it and the configured ids (relay and direct), and the setting', () => {
    const plugs = 'lamp@hub-1=192.168.1.20,fan@hub-1=192.168.1.30';
    for (const mode of ['relay', 'direct']) {
      const err = configError(() => parseButtonConfig({ SHADOWPLUG_PLUG_MODE: mode, SHADOWPLUG_PLUGS: plugs, SHADOWPLUG_DEFAULT_TARGETS: 'lamp', SHADOWPLUG_SERIAL_TARGETS: '{"G030":["fan","heater"]}' }));
      expect(err.variable).toBe('SHADOWPLUG_SERIAL_TARGETS');
      expect(err.message).toBe('SHADOWPLUG_SERIAL_TARGETS: serial G030: "heater" is not a configured plug id (configured: lamp, fan)');
    }
    expect(() => parseButtonConfig({ SHADOWPLUG_PLUGS: plugs, SHADOWPLUG_DEFAULT_TARGETS: 'lmap' })).toThrow(/SHADOWPLUG_DEFAULT_TARGETS: "lmap" is not a configured plug id \(configured: lamp, fan\)/);
  });

  it('direct mode: an id is switched at its plug\'s address (hub unused), a bare address as it is', () => {
    const config = parseButtonConfig({
      SHADOWPLUG_PLUG_MODE: 'direct',
      SHADOWPLUG_PLUGS: 'desk@hub-1=192.168.1.40:9998#2',
      SHADOWPLUG_DEFAULT_TARGETS: 'desk,192.168.1.50',
    });
    expect(config.defaultTargets).toEqual([
      { host: '192.168.1.40', port: 9998, child: 2, plug: 'desk' },
      { host: '192.168.1.50', port: 9999 },
    ]);
    // With no plugs configured a bare word is a host name, as in the seed's configuration.
    expect(parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_DEFAULT_TARGETS: 'lamp' }).defaultTargets).toEqual([{ host: 'lamp', port: 9999 }]);
  });

  it('reads targets with ports and strip outlets, per-serial targets, mapping and limits', () => {
    const config = parseButtonConfig({
      SHADOWPLUG_PLUG_MODE: 'direct',
      SHADOWPLUG_DEFAULT_TARGETS: 'plug.lan:10000, [fd00::5]#2',
      SHADOWPLUG_SERIAL_TARGETS: JSON.stringify({ G030JF0512345678: ['10.0.0.2#800612345601', '10.0.0.3'], G030B: '10.0.0.4:9998' }),
      SHADOWPLUG_CLICK_ACTIONS: 'single=on, DOUBLE=Off,LONG=none',
      SHADOWPLUG_MAX_CLICK_AGE_SECONDS: '5',
      SHADOWPLUG_LOW_BATTERY_MILLIVOLTS: '0',
      SHADOWPLUG_SNS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:shadowplug-outcomes',
      SHADOWPLUG_LOG_LEVEL: 'DEBUG',
    });
    expect(config.defaultTargets).toEqual([
      { host: 'plug.lan', port: 10000 },
      { host: 'fd00::5', port: 9999, child: 2 },
    ]);
    expect(config.serialTargets).toEqual({
      G030JF0512345678: [
        { host: '10.0.0.2', port: 9999, child: '800612345601' },
        { host: '10.0.0.3', port: 9999 },
      ],
      G030B: [{ host: '10.0.0.4', port: 9998 }],
    });
    expect(config.clickActions).toEqual({ SINGLE: 'on', DOUBLE: 'off', LONG: 'none' });
    expect(config.maxClickAgeSeconds).toBe(5);
    expect(config.lowBatteryMillivolts).toBe(0);
    expect(config.snsTopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:shadowplug-outcomes');
    expect(config.logLevel).toBe('debug');
    expect(targetsFor(config, 'G030B')).toEqual([{ host: '10.0.0.4', port: 9998 }]);
    expect(targetsFor(config, 'unknown')).toBe(config.defaultTargets);
  });

  it.each([
    [{}, 'SHADOWPLUG_DEFAULT_TARGETS', /no plug to switch/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'plug:99999' }, 'SHADOWPLUG_DEFAULT_TARGETS', /port must be 1\.\.65535/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'bad host' }, 'SHADOWPLUG_DEFAULT_TARGETS', /invalid plug address "bad host"/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'bad_host!' }, 'SHADOWPLUG_DEFAULT_TARGETS', /"bad_host!" is not a host name/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: '10.0.0.1#two!' }, 'SHADOWPLUG_DEFAULT_TARGETS', /outlet "#two!"/],
    [{ SHADOWPLUG_SERIAL_TARGETS: '{not json' }, 'SHADOWPLUG_SERIAL_TARGETS', /not valid JSON/],
    [{ SHADOWPLUG_SERIAL_TARGETS: '["10.0.0.1"]' }, 'SHADOWPLUG_SERIAL_TARGETS', /JSON object/],
    [{ SHADOWPLUG_SERIAL_TARGETS: '{"G0":5}' }, 'SHADOWPLUG_SERIAL_TARGETS', /serial G0: expected a plug id or host/],
    [{ SHADOWPLUG_SERIAL_TARGETS: '{"a b":"10.0.0.1"}' }, 'SHADOWPLUG_SERIAL_TARGETS', /serial "a b"/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_CLICK_ACTIONS: 'TRIPLE=on' }, 'SHADOWPLUG_CLICK_ACTIONS', /unknown click type "TRIPLE"/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_CLICK_ACTIONS: 'SINGLE=flip' }, 'SHADOWPLUG_CLICK_ACTIONS', /unknown click action "flip" for SINGLE/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_CLICK_ACTIONS: 'SINGLE' }, 'SHADOWPLUG_CLICK_ACTIONS', /not TYPE=action/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_MAX_CLICK_AGE_SECONDS: '30s' }, 'SHADOWPLUG_MAX_CLICK_AGE_SECONDS', /expected a whole number from 1 to 86400, got "30s"/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_MAX_CLICK_AGE_SECONDS: '0' }, 'SHADOWPLUG_MAX_CLICK_AGE_SECONDS', /from 1 to 86400, got "0"/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_CONNECT_TIMEOUT_MS: '-1' }, 'SHADOWPLUG_CONNECT_TIMEOUT_MS', /expected a whole number/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_SNS_TOPIC_ARN: 'my-topic' }, 'SHADOWPLUG_SNS_TOPIC_ARN', /not an SNS topic ARN/],
    [{ SHADOWPLUG_DEFAULT_TARGETS: 'p', SHADOWPLUG_LOG_LEVEL: 'chatty' }, 'SHADOWPLUG_LOG_LEVEL', /not one of/],
  ])('rejects %j naming %s', (env, variable, problem) => {
    const err = configError(() => parseButtonConfig(env));
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).toMatch(problem);
    expect(err.code).toBe('BUTTON_CONFIG_INVALID');
    expect(err.retryable).toBe(false);
  });

  it('accepts a function with per-serial targets only', () => {
    const config = parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_SERIAL_TARGETS: '{"G030":"10.0.0.1"}' });
    expect(config.defaultTargets).toEqual([]);
    expect(targetsFor(config, 'other')).toEqual([]);
  });
});

describe('buttonFunctionEnvironment', () => {
  it('spells out every value, and parses back to the same configuration', () => {
    const env = buttonFunctionEnvironment({
      defaultTargets: ['192.168.1.20', { host: '192.168.1.21', port: 9999, child: 3 }],
      serialTargets: { G030JF05: '10.0.0.9:1234#0' },
      clickActions: { DOUBLE: 'on', LONG: 'off' },
      snsTopicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      plugMode: 'direct',
    });
    expect(env).toEqual({
      SHADOWPLUG_DEFAULT_TARGETS: '192.168.1.20:9999,192.168.1.21:9999#3',
      SHADOWPLUG_SERIAL_TARGETS: '{"G030JF05":"10.0.0.9:1234#0"}',
      SHADOWPLUG_CLICK_ACTIONS: 'SINGLE=toggle,DOUBLE=on,LONG=off',
      SHADOWPLUG_MAX_CLICK_AGE_SECONDS: '30',
      SHADOWPLUG_LOW_BATTERY_MILLIVOLTS: '1300',
      SHADOWPLUG_LOW_BATTERY_PERCENT: '10',
      SHADOWPLUG_CONNECT_TIMEOUT_MS: '2000',
      SHADOWPLUG_REQUEST_TIMEOUT_MS: '3000',
      SHADOWPLUG_DEDUPE_CAPACITY: '1000',
      SHADOWPLUG_PLUG_MODE: 'direct',
      SHADOWPLUG_CONFIRM_TIMEOUT_MS: '5000',
      SHADOWPLUG_LOG_LEVEL: 'info',
      SHADOWPLUG_SNS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
    });
    const config = parseButtonConfig(env);
    expect(config.defaultTargets[1]).toEqual({ host: '192.168.1.21', port: 9999, child: 3 });
    expect(config.clickActions.DOUBLE).toBe('on');
    expect(Object.keys(env).every((k) => (Object.values(BUTTON_ENV) as string[]).includes(k))).toBe(true);
  });

  it('passes a CDK token for the topic through unchecked', () => {
    const env = buttonFunctionEnvironment({ defaultTargets: 'p', plugMode: 'direct', snsTopicArn: '${Token[TOKEN.123]}' });
    expect(env.SHADOWPLUG_SNS_TOPIC_ARN).toBe('${Token[TOKEN.123]}');
  });

  it.each([
    [{}, 'defaultTargets'],
    [{ defaultTargets: 'plug:0' }, 'defaultTargets'],
    [{ defaultTargets: 'p', serialTargets: { G1: 'nope nope' } }, 'serialTargets'],
    [{ defaultTargets: 'p', clickActions: { SINGLE: 'flip' } }, 'clickActions'],
    [{ defaultTargets: 'p', clickActions: { TRIPLE: 'on' } }, 'clickActions'],
    [{ defaultTargets: 'p', maxClickAgeSeconds: 1.5 }, 'maxClickAgeSeconds'],
    [{ defaultTargets: 'p', requestTimeoutMs: 10 }, 'requestTimeoutMs'],
  ])('rejects settings %j naming %s', (settings, field) => {
    const err = configError(() => buttonFunctionEnvironment(settings as never));
    expect(err.variable).toBe(field);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });
});

describe('worstCaseClickMs', () => {
  it('counts outlets of one device one after another, devices in parallel', () => {
    const direct = { SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_CONNECT_TIMEOUT_MS: '1000', SHADOWPLUG_REQUEST_TIMEOUT_MS: '1000' };
    const one = parseButtonConfig({ ...direct, SHADOWPLUG_DEFAULT_TARGETS: 'a' });
    const strip = parseButtonConfig({ ...direct, SHADOWPLUG_DEFAULT_TARGETS: 'a#0,a#1,b' });
    expect(worstCaseClickMs(strip) - worstCaseClickMs(one)).toBe(worstCaseClickMs(one) - 3_000);
    expect(worstCaseClickMs(parseButtonConfig({ SHADOWPLUG_PLUG_MODE: 'direct', SHADOWPLUG_DEFAULT_TARGETS: 'a' }))).toBe(18_000);
  });
});
