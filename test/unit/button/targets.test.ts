import { describe, expect, it } from 'vitest';
import { deviceKey, formatTarget, formatTargetRef, parseTarget, parseTargetRef } from '../../../core/button/targets';

describe('plug targets', () => {
  it.each([
    ['192.168.1.20', { host: '192.168.1.20', port: 9999 }, '192.168.1.20:9999'],
    ['plug.lan:10000', { host: 'plug.lan', port: 10000 }, 'plug.lan:10000'],
    ['10.0.0.2#3', { host: '10.0.0.2', port: 9999, child: 3 }, '10.0.0.2:9999#3'],
    ['10.0.0.2:9999#8006ABCDEF01', { host: '10.0.0.2', port: 9999, child: '8006ABCDEF01' }, '10.0.0.2:9999#8006ABCDEF01'],
    ['[fd00::5]:9998#1', { host: 'fd00::5', port: 9998, child: 1 }, '[fd00::5]:9998#1'],
    ['  lamp  ', { host: 'lamp', port: 9999 }, 'lamp:9999'],
  ])('reads %s and writes it back canonically', (text, target, canonical) => {
    expect(parseTarget(text)).toEqual(target);
    expect(formatTarget(parseTarget(text))).toBe(canonical);
    expect(parseTarget(canonical)).toEqual(target);
  });

  it.each([
    ['', /empty plug target/],
    ['-bad.host', /not a host name/],
    ['[fd00::5', /is not a host name, IPv4 or \[IPv6\] address/],
    ['host:0', /port must be 1\.\.65535/],
    ['host#', /outlet "#"/],
    ['host#a-b', /outlet "#a-b"/],
    ['192.168.1.300', /"192\.168\.1\.300" is not a host name/],
    ['[fd00:::5]:9999', /"fd00:::5" is not a host name/],
  ])('rejects %j', (text, problem) => {
    expect(() => parseTarget(text)).toThrow(problem);
  });

  it('groups outlets by device', () => {
    expect(['a#0', 'a#1', 'b:10'].map((t) => deviceKey(parseTarget(t)))).toEqual(['a:9999', 'a:9999', 'b:10']);
  });
});

describe('target references (a plug id or an address)', () => {
  it.each([
    ['lamp', { id: 'lamp', address: { host: 'lamp', port: 9999 } }, 'lamp'],
    ['desk_1', { id: 'desk_1' }, 'desk_1'],
    ['192.168.1.20', { address: { host: '192.168.1.20', port: 9999 } }, '192.168.1.20:9999'],
    ['strip.lan#2', { address: { host: 'strip.lan', port: 9999, child: 2 } }, 'strip.lan:9999#2'],
  ])('reads %s as %j and writes it back as %s', (text, ref, canonical) => {
    expect(parseTargetRef(text)).toEqual(ref);
    expect(formatTargetRef(parseTargetRef(text))).toBe(canonical);
  });

  it('refuses what is neither', () => {
    expect(() => parseTargetRef('bad host')).toThrow(/invalid plug address "bad host"/);
  });
});
