import { describe, expect, it } from 'vitest';
import { checkPlugSpecs, parsePlugSpec, readPlugSpec } from '../../../sandbox/plug-spec';
import { resolveSandboxConfig, SANDBOX_TPLINK_CREDENTIALS } from '../../../sandbox/sandbox-config';
import { sandboxCredentials } from '../../../sandbox/cli';

describe('--plug: the sandbox plugs by id', () => {
  it.each([
    ['lamp=hs100', { id: 'lamp', kind: 'hs100' }],
    ['fan=P110-KLAP', { id: 'fan', kind: 'p110-klap' }],
    ['desk@shadowplug-device-2=hs300#1', { id: 'desk', thing: 'shadowplug-device-2', kind: 'hs300' , outlet: 1 }],
    ['tv=p300-klap#2', { id: 'tv', kind: 'p300-klap', outlet: 2 }],
    ['tv=192.168.1.30', { id: 'tv', address: { host: '192.168.1.30', port: 9999 } }],
    ['strip=plug.lan:10000#8006AB01', { id: 'strip', address: { host: 'plug.lan', port: 10000 }, outlet: '8006AB01' }],
    ['192.168.1.20:9998', { id: 'lamp', address: { host: '192.168.1.20', port: 9998 } }],
    ['hs300#2', { id: 'lamp', kind: 'hs300', outlet: 2 }],
    ['[fd00::5]:9999#0', { id: 'lamp', address: { host: 'fd00::5', port: 9999 }, outlet: 0 }],
  ])('reads %s', (text, spec) => {
    expect(parsePlugSpec(text)).toEqual(spec);
  });

  it.each([
    ['lamp lamp=hs100', /--plug "lamp lamp=hs100": id "lamp lamp" must match/],
    ['lamp=hs100#1', /hs100 has no outlets/],
    ['lamp=hs300#x-y', /outlet "#x-y"/],
    ['lamp=not a host', /--plug "lamp=not a host": invalid plug address .* kind among hs100, hs110, hs300, hs100-klap1/],
  ])('refuses %s naming the flag and the value', (text, problem) => {
    expect(() => parsePlugSpec(text)).toThrow(problem);
  });

  it('is one grammar: an id only when given, so `click --plug host:port` and `sandbox --plug lamp=hs100` read alike', () => {
    const fail = (problem: string): never => {
      throw new Error(problem);
    };
    expect(readPlugSpec('127.0.0.1:9999#1', fail)).toEqual({ address: { host: '127.0.0.1', port: 9999 }, outlet: 1 });
    expect(readPlugSpec('desk@hub-1=hs300#3', fail)).toEqual({ id: 'desk', thing: 'hub-1', kind: 'hs300', outlet: 3 });
    expect(() => readPlugSpec('p110-klap#1', fail)).toThrow(/p110-klap has no outlets/);
  });

  it('fills in the first thing; refuses a repeated id and an unknown thing', () => {
    expect(checkPlugSpecs([{ id: 'a', kind: 'hs100' }], ['t1', 't2'])).toEqual([{ id: 'a', kind: 'hs100', thing: 't1' }]);
    expect(() => checkPlugSpecs([{ id: 'a', kind: 'hs100' }, { id: 'a', kind: 'hs110' }], ['t1'])).toThrow(/id "a" is given twice/);
    expect(() => checkPlugSpecs([{ id: 'a', thing: 't9', kind: 'hs100' }], ['t1'])).toThrow(/--plug a@t9: no such thing/);
  });

  it('defaults to one simulated HS100 lamp; --strip and a bare --plug host keep their meaning', () => {
    expect(resolveSandboxConfig({}).plugs).toEqual([{ id: 'lamp', kind: 'hs100', thing: 'shadowplug-device-1' }]);
    expect(resolveSandboxConfig({ strip: true }).plugs).toEqual([{ id: 'lamp', kind: 'hs300', thing: 'shadowplug-device-1' }]);
    expect(resolveSandboxConfig({ plug: '10.0.0.5' }).plugs).toEqual([{ id: 'lamp', address: { host: '10.0.0.5', port: 9999 }, thing: 'shadowplug-device-1' }]);
    expect(() => resolveSandboxConfig({ strip: true, plugs: ['a=hs100'] })).toThrow(/--strip .*give --plug lamp=hs300 instead/);
  });
});

describe('the sandbox TP-Link account', () => {
  it('flags first, then SHADOWPLUG_TPLINK_USERNAME/PASSWORD, else the sandbox default', () => {
    expect(sandboxCredentials({}, {})).toEqual({});
    expect(resolveSandboxConfig({}).plugCredentials).toEqual(SANDBOX_TPLINK_CREDENTIALS);
    expect(sandboxCredentials({}, { SHADOWPLUG_TPLINK_USERNAME: 'me@example.com', SHADOWPLUG_TPLINK_PASSWORD: 'pw' })).toEqual({ plugCredentials: { username: 'me@example.com', password: 'pw' } });
    expect(sandboxCredentials({ tplinkPassword: 'flag' }, { SHADOWPLUG_TPLINK_PASSWORD: 'env' })).toEqual({ plugCredentials: { username: SANDBOX_TPLINK_CREDENTIALS.username, password: 'flag' } });
  });
});
