import { describe, expect, it } from 'vitest';
import { desiredRequestId, isExpired, MAX_REQUEST_ID_LENGTH, parseDesired, parseReported, plugShadowName, reportedJson } from '../../../core/plug-relay/contract';
import { checkPlugs, formatPlug, parsePlug, parsePlugList, plugForTarget, plugsOfHub } from '../../../core/plug-relay/config';
import { ConfigError } from '../../../core/errors';
import { PlugDesiredError } from '../../../core/plug-relay/errors';

describe('plug shadow names', () => {
  it('are plug-<id>', () => {
    expect(plugShadowName('lamp_1')).toBe('plug-lamp_1');
  });
  it('stay within the 64-character shadow name limit for the longest id', () => {
    expect(plugShadowName('x'.repeat(59))).toHaveLength(64);
  });
});

describe('parseDesired', () => {
  const name = 'plug-lamp';
  it('accepts a complete request', () => {
    expect(parseDesired(name, { power: 'on', requestId: 'r1', requestedAt: 5 })).toEqual({ power: 'on', requestId: 'r1', requestedAt: 5 });
  });
  it('treats no section or no requestId as nothing requested', () => {
    expect(parseDesired(name, undefined)).toBeUndefined();
    expect(parseDesired(name, null)).toBeUndefined();
    expect(parseDesired(name, { power: 'on' })).toBeUndefined();
  });
  it.each([
    [{ power: 'dim', requestId: 'r', requestedAt: 1 }, 'power'],
    [{ power: true, requestId: 'r', requestedAt: 1 }, 'power'],
    [{ power: 'on', requestId: 7, requestedAt: 1 }, 'requestId'],
    [{ power: 'on', requestId: 'r', requestedAt: '1' }, 'requestedAt'],
    [{ power: 'on', requestId: 'r', requestedAt: -1 }, 'requestedAt'],
  ])('rejects %j naming the field', (desired, field) => {
    const result = parseDesired(name, desired);
    expect(result).toBeInstanceOf(PlugDesiredError);
    expect((result as PlugDesiredError).field).toBe(field);
    expect((result as PlugDesiredError).retryable).toBe(false);
    expect((result as PlugDesiredError).message).toContain(`plug-lamp: desired.${field}`);
  });
  it('does not read inherited keys', () => {
    const desired = JSON.parse('{"__proto__": {"power": "on", "requestId": "r", "requestedAt": 1}}') as never;
    expect(parseDesired(name, desired)).toBeUndefined();
  });
});

describe('parseReported', () => {
  it('reads power, online, alias and the last request with its error', () => {
    const reported = { power: 'off', online: true, alias: 'Lamp', lastRequest: { requestId: 'r', outcome: 'failed', error: { code: 'TPLINK_TIMEOUT', message: 'slow' } } };
    expect(parseReported(reported)).toEqual({ ...reported });
  });
  it('ignores values outside the contract', () => {
    expect(parseReported({ power: 1, online: 'yes', lastRequest: { requestId: 'r', outcome: 'maybe' } })).toEqual({});
    expect(parseReported('x')).toEqual({});
  });
  it('writes reported without undefined fields', () => {
    expect(reportedJson({ online: false, power: undefined as never })).toEqual({ online: false });
  });
});

describe('isExpired', () => {
  it('expires a request older than the limit, not one at it', () => {
    const d = { power: 'on' as const, requestId: 'r', requestedAt: 1_000 };
    expect(isExpired(d, 31_000, 30_000)).toBe(false);
    expect(isExpired(d, 31_001, 30_000)).toBe(true);
  });
});

describe('plug configuration', () => {
  it('parses id@hub=host[:port][#child]', () => {
    expect(parsePlug('lamp@hub-1=192.168.1.20')).toEqual({ id: 'lamp', hub: 'hub-1', host: '192.168.1.20', port: 9999 });
    expect(parsePlug(' fan@hub-1=127.0.0.1:5000#1 ')).toEqual({ id: 'fan', hub: 'hub-1', host: '127.0.0.1', port: 5000, child: 1 });
  });
  it('reads an optional ?protocol=…&family=… override, before or after #child, and writes it back', () => {
    expect(parsePlug('kettle@hub-1=192.168.1.40?protocol=klap')).toEqual({ id: 'kettle', hub: 'hub-1', host: '192.168.1.40', port: 9999, protocol: 'klap' });
    const outlet = parsePlug('tv@hub-1=192.168.1.41#2?protocol=klap&family=smart');
    expect(outlet).toEqual({ id: 'tv', hub: 'hub-1', host: '192.168.1.41', port: 9999, child: 2, protocol: 'klap', family: 'smart' });
    expect(parsePlug('tv@hub-1=192.168.1.41:80?family=smart#2')).toMatchObject({ port: 80, child: 2, family: 'smart' });
    expect(formatPlug(outlet)).toBe('tv@hub-1=192.168.1.41:9999#2?protocol=klap&family=smart');
    expect(parsePlug(formatPlug(outlet))).toEqual(outlet);
    expect(formatPlug(parsePlug('lamp@hub-1=192.168.1.20'))).toBe('lamp@hub-1=192.168.1.20:9999');
  });
  it.each([
    ['lamp=1.2.3.4', 'expected id@hub=host'],
    ['la.mp@hub=1.2.3.4', 'id "la.mp"'],
    ['lamp@hub/1=1.2.3.4', 'hub "hub/1"'],
    ['lamp@hub=1.2.3.4:99999', 'lamp@hub=1.2.3.4:99999'],
    ['lamp@hub=1.2.3.4#x-y', 'outlet'],
    ['lamp@hub=1.2.3.4?protocol=http', '"protocol=http" is not protocol=xor|klap|aes'],
    ['lamp@hub=1.2.3.4?proto=klap', '"proto=klap"'],
    ['lamp@hub=1.2.3.4?protocol=xor&family=smart', 'XOR carries the IOT family only'],
    ['lamp@hub=1.2.3.4?protocol=aes&family=iot', 'AES carries the SMART family only'],
  ])('rejects %s with a typed error naming the entry', (text, words) => {
    let error: unknown;
    try {
      parsePlug(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(words);
    expect((error as ConfigError).message.startsWith(`plug "${text}": `)).toBe(true);
    expect((error as ConfigError).code).toBe('PLUG_CONFIG_INVALID');
  });
  it('refuses a duplicate id and two plugs on one outlet', () => {
    expect(() => parsePlugList('a@h=1.2.3.4,a@h=1.2.3.5')).toThrow(/configured twice/);
    expect(() => checkPlugs([parsePlug('a@h=1.2.3.4#1'), parsePlug('b@g=1.2.3.4:9999#1')])).toThrow(/already configured/);
  });
  it('finds a hub’s plugs and the plug of a button target', () => {
    const plugs = parsePlugList('a@h1=1.2.3.4, b@h2=1.2.3.4#0, c@h1=1.2.3.4#1');
    expect(plugsOfHub(plugs, 'h1').map((p) => p.id)).toEqual(['a', 'c']);
    expect(plugForTarget(plugs, { host: '1.2.3.4', port: 9999, child: 0 })?.id).toBe('b');
    expect(plugForTarget(plugs, { host: '1.2.3.4', port: 9998 })).toBeUndefined();
  });
});

describe('hostile desired values', () => {
  it('answers a requestId of any type or length with a bounded id, so the report fits the shadow', () => {
    const long = 'x'.repeat(7000);
    expect(desiredRequestId({ requestId: long })!.length).toBe(MAX_REQUEST_ID_LENGTH);
    expect(desiredRequestId({ requestId: 42 })).toBe('42');
    expect(desiredRequestId({ requestId: { a: 'y'.repeat(500) } })!.length).toBe(MAX_REQUEST_ID_LENGTH);
    expect(desiredRequestId({ requestId: null })).toBeUndefined();
    // The refusal names the field, not the value.
    const refused = parseDesired('plug-lamp', { requestId: long, power: 'on', requestedAt: 1 }) as Error;
    expect(refused).toBeInstanceOf(Error);
    expect(refused.message.length).toBeLessThan(200);
    const typed = parseDesired('plug-lamp', { requestId: 42, power: 'on', requestedAt: 1 }) as Error;
    expect(typed.message).toMatch(/requestId/);
    const power = parseDesired('plug-lamp', { requestId: 'r', power: 'z'.repeat(5000), requestedAt: 1 }) as Error;
    expect(power.message.length).toBeLessThan(200);
    const lastRequest = { requestId: desiredRequestId({ requestId: long })!, outcome: 'failed' as const, error: { code: 'PLUG_DESIRED', message: refused.message } };
    expect(JSON.stringify(reportedJson({ online: true, lastRequest })).length).toBeLessThan(8 * 1024);
  });

  it('does not apply a request dated further in the future than the age limit', () => {
    const d = { power: 'on' as const, requestId: 'r', requestedAt: 1_000_000 + 365 * 86_400_000 };
    expect(isExpired(d, 1_000_000, 30_000)).toBe(true);
    expect(isExpired({ ...d, requestedAt: 1_010_000 }, 1_000_000, 30_000)).toBe(false);
  });
});
