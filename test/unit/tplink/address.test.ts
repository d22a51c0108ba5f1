import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../core/tplink/address';

describe('parseAddress', () => {
  it.each([
    ['192.168.1.20', { host: '192.168.1.20', port: 9999 }],
    ['192.168.1.20:10000', { host: '192.168.1.20', port: 10000 }],
    ['plug.lan', { host: 'plug.lan', port: 9999 }],
    ['[fe80::1]:9999', { host: 'fe80::1', port: 9999 }],
    ['::1', { host: '::1', port: 9999 }],
  ])('%s', (input, expected) => expect(parseAddress(input)).toEqual(expected));

  it.each(['', ':9999', 'host:0', 'host:70000', 'host:abc', 'two words'])('rejects %j', (input) => {
    expect(() => parseAddress(input)).toThrow(expect.objectContaining({ code: 'TPLINK_INVALID_ADDRESS', retryable: false }));
  });
});
