/**
 * Tapo firmware that blocks logins after too many refused ones answers -40404 with `sec_left`:
 * the error says how long, and is an authentication failure (callers stop trying, the agent backs off).
 */
import { describe, expect, it } from 'vitest';
import { SmartProtocol } from '../../../core/tplink/smart-protocol';
import { TplinkAuthenticationError } from '../../../core/tplink/errors';
import type { Transport } from '../../../core/tplink/transport';

function blockedDevice(reply: unknown): Transport & { asked: number } {
  const t = {
    endpoint: { host: '127.0.0.1', port: 80 },
    asked: 0,
    send: () => {
      t.asked++;
      return Promise.resolve(reply);
    },
    hold: <T>(fn: () => Promise<T>) => fn(),
    close: () => Promise.resolve(),
  };
  return t;
}

describe('a device blocked after refused logins (-40404)', () => {
  it('says how long it is blocked, as an authentication failure, after one request', async () => {
    const device = blockedDevice({ error_code: -40404, result: { sec_left: 1795 } });
    const err = await new SmartProtocol(device).call('get_device_info').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TplinkAuthenticationError);
    expect(err).toMatchObject({ code: 'TPLINK_AUTH', retryable: false });
    expect((err as Error).message).toMatch(/blocks logins for another 1795 s \(about 30 min\).*-40404/);
    expect(device.asked).toBe(1);
  });

  it('still says it is blocked when the firmware gives no sec_left', async () => {
    const err = await new SmartProtocol(blockedDevice({ error_code: -40404 })).call('get_device_info').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/blocks logins for a while/);
  });
});
