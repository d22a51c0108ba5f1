/** The per-device login guard: what a refusal or a block says, which logins to make, on a given clock. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BLOCK_SECONDS, LoginGuard, loginRefusal } from '../../../core/tplink/login-guard';

const endpoint = { host: '192.0.2.7', port: 80 };

describe('loginRefusal', () => {
  it('finds sec_left in the reply, its result, or their data', () => {
    expect(loginRefusal({ error_code: -40404, result: { sec_left: 1795 } })).toEqual({ secondsLeft: 1795 });
    expect(loginRefusal({ error_code: -40404, data: { code: -40404, sec_left: 60 } })).toEqual({ secondsLeft: 60 });
    expect(loginRefusal({ error_code: -40404, result: { data: { sec_left: 30 } } })).toEqual({ secondsLeft: 30 });
    expect(loginRefusal({ error_code: -40404 })).toEqual({});
  });

  it('reads the attempts left only where the firmware gives both time and max_time', () => {
    expect(loginRefusal({ error_code: -1501, result: { data: { code: -1501, time: 3, max_time: 10 } } })).toEqual({ attemptsLeft: 3 });
    expect(loginRefusal({ error_code: -1501, result: { data: { time: 3 } } })).toEqual({});
  });
});

describe('LoginGuard', () => {
  it('makes every attempt until the account is refused, then one per request in turn', () => {
    const guard = new LoginGuard(endpoint);
    expect(guard.choose(['a2', 'a1', 'd2', 'd1'], ['a2', 'a1'])).toEqual(['a2', 'a1', 'd2', 'd1']);
    guard.refusedLogin({ error_code: -1501 });
    expect([guard.choose(['a2', 'a1', 'd2', 'd1'], ['a2', 'a1']), guard.choose(['a2', 'a1'], ['a2', 'a1']), guard.choose(['a2'], ['a2', 'a1'])]).toEqual([['a2'], ['a1'], ['a2']]);
    guard.succeeded();
    expect(guard.choose(['a2', 'a1'])).toEqual(['a2', 'a1']);
  });

  it('sends nothing until sec_left has passed on the given clock, 30 min when the firmware does not say', () => {
    const guard = new LoginGuard(endpoint);
    const err = guard.blocked(1_000, { error_code: -40404, result: { sec_left: 90 } });
    expect(err).toMatchObject({ code: 'TPLINK_AUTH', message: expect.stringMatching(/^192\.0\.2\.7:80: .*for another 90 s \(about 2 min\)/) });
    expect(() => guard.check(31_000)).toThrow(/for another 60 s .*no login tried/);
    expect(() => guard.check(91_000)).not.toThrow();
    guard.blocked(0, { error_code: -40404 });
    expect(() => guard.check(DEFAULT_BLOCK_SECONDS * 1000 - 1)).toThrow(/-40404/);
    expect(() => guard.check(DEFAULT_BLOCK_SECONDS * 1000)).not.toThrow();
  });
});
