import { describe, expect, it } from 'vitest';
import {
  getSysinfoRequest,
  parseSetRelayStateReply,
  parseSysinfo,
  selectChild,
  setRelayStateRequest,
} from '../../../core/tplink/commands';
import { TplinkChildNotFoundError, TplinkDeviceError, TplinkProtocolError } from '../../../core/tplink/errors';

const at = { host: '10.0.0.5', port: 9999 };
const plugReply = { system: { get_sysinfo: { alias: 'Lamp', model: 'HS100(EU)', deviceId: 'DEV', relay_state: 1, err_code: 0 } } };
const stripReply = {
  system: {
    get_sysinfo: {
      alias: 'Strip',
      model: 'HS300(US)',
      deviceId: 'D',
      children: [
        { id: 'D00', alias: 'a', state: 0 },
        { id: 'D01', alias: 'b', state: 1 },
        { id: '02', alias: 'c', state: 0 },
      ],
      err_code: 0,
    },
  },
};

describe('commands', () => {
  it('builds get_sysinfo', () => {
    expect(JSON.stringify(getSysinfoRequest())).toBe('{"system":{"get_sysinfo":{}}}');
  });

  it('builds set_relay_state for the whole device', () => {
    expect(setRelayStateRequest(true)).toEqual({ system: { set_relay_state: { state: 1 } } });
    expect(setRelayStateRequest(false)).toEqual({ system: { set_relay_state: { state: 0 } } });
  });

  it('builds set_relay_state for one outlet with context.child_ids', () => {
    expect(setRelayStateRequest(true, ['D01'])).toEqual({
      context: { child_ids: ['D01'] },
      system: { set_relay_state: { state: 1 } },
    });
  });

  describe('parseSysinfo', () => {
    it('reads relay_state of a plug', () => {
      expect(parseSysinfo(at, plugReply)).toEqual({ alias: 'Lamp', model: 'HS100(EU)', deviceId: 'DEV', relayState: 1 });
    });

    it('reads children[].state of a strip, completing suffix-only ids', () => {
      const s = parseSysinfo(at, stripReply);
      expect(s.relayState).toBeUndefined();
      expect(s.children).toEqual([
        { id: 'D00', index: 0, alias: 'a', state: 0 },
        { id: 'D01', index: 1, alias: 'b', state: 1 },
        { id: 'D02', index: 2, alias: 'c', state: 0 },
      ]);
    });

    it('turns a non-zero err_code into a TplinkDeviceError with code and message', () => {
      const reply = { system: { get_sysinfo: { err_code: -1, err_msg: 'module not support' } } };
      expect(() => parseSysinfo(at, reply)).toThrow(TplinkDeviceError);
      try {
        parseSysinfo(at, reply);
      } catch (err) {
        const e = err as TplinkDeviceError;
        expect([e.errCode, e.errMsg, e.method, e.host, e.port, e.retryable]).toEqual([
          -1,
          'module not support',
          'system.get_sysinfo',
          '10.0.0.5',
          9999,
          false,
        ]);
        expect(e.message).toBe('10.0.0.5:9999: device error -1 "module not support" in system.get_sysinfo');
      }
    });

    it('checks err_code on the module too', () => {
      expect(() => parseSysinfo(at, { system: { err_code: -2, err_msg: 'member not support' } })).toThrow(/-2 "member not support" in system$/);
    });

    it.each([
      ['not an object', [1, 2]],
      ['no system', { emeter: {} }],
      ['no get_sysinfo', { system: {} }],
      ['a bad relay_state', { system: { get_sysinfo: { relay_state: 'on' } } }],
      ['a bad child', { system: { get_sysinfo: { children: [null] } } }],
    ])('rejects a reply with %s as a protocol error', (_what, reply) => {
      expect(() => parseSysinfo(at, reply)).toThrow(TplinkProtocolError);
    });
  });

  it('checks a set_relay_state reply', () => {
    expect(() => parseSetRelayStateReply(at, { system: { set_relay_state: { err_code: 0 } } })).not.toThrow();
    expect(() =>
      parseSetRelayStateReply(at, { system: { set_relay_state: { err_code: -14, err_msg: 'entry not exist' } } }),
    ).toThrow(TplinkDeviceError);
  });

  describe('selectChild', () => {
    const strip = parseSysinfo(at, stripReply);
    it('by full id', () => expect(selectChild(at, strip, 'D01').index).toBe(1));
    it('by 2-digit suffix', () => expect(selectChild(at, strip, '02').id).toBe('D02'));
    it('by index, number or digit string', () => {
      expect(selectChild(at, strip, 2).id).toBe('D02');
      expect(selectChild(at, strip, '1').id).toBe('D01');
    });
    it('rejects an unknown outlet, listing what exists', () => {
      expect(() => selectChild(at, strip, 7)).toThrow(/indexes are 0\.\.2, id suffixes 00, 01, 02/);
      expect(() => selectChild(at, strip, 'kitchen')).toThrow(TplinkChildNotFoundError);
    });
    it('rejects a child of a plain plug', () => {
      expect(() => selectChild(at, parseSysinfo(at, plugReply), 0)).toThrow(/plug with no outlets/);
    });
  });
});
