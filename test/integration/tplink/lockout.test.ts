/**
 * Tapo firmware blocks logins (-40404, `sec_left`) after a few refused ones, and each further attempt
 * may extend the block: a client that keeps polling with a wrong password locks the owner out of
 * their own plug. Against a simulated P100 on AES (real HTTP on 127.0.0.1) that blocks after five
 * refused logins, each poll being one `plugAction` sharing the session cache as the agent's polls do,
 * on a clock the test turns.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { plugAction } from '../../../core/tplink/operations';
import { SessionCache } from '../../../core/tplink/session-transport';
import { TplinkAuthenticationError } from '../../../core/tplink/errors';
import { startAesServer, type LoginLockout } from '../../../sandbox/plugs/aes-server';
import { SimulatedSmartDevice } from '../../../sandbox/plugs/smart-device';

const owner = { username: 'owner@example.com', password: 'right' };
const wrong = { username: 'owner@example.com', password: 'wrong' };
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close()));
});

async function blockingPlug(lockout: Omit<LoginLockout, 'now'>, clock: { ms: number }) {
  const model = new SimulatedSmartDevice({ model: 'P100', deviceId: '8022AA', nickname: 'Heater' });
  const server = await startAesServer({ credentials: owner, handle: (r) => model.handle(r), lockout: { ...lockout, now: () => clock.ms } });
  open.push(server);
  const sessions = new SessionCache();
  open.push({ close: () => Promise.resolve(sessions.clear()) });
  const poll = (credentials = wrong) =>
    plugAction({ host: server.host, port: server.port }, 'status', {
      credentials,
      sessions,
      protocol: 'aes',
      family: 'smart',
      now: () => clock.ms,
      requestTimeoutMs: 3000,
    }).catch((err: unknown) => err);
  return { server, poll };
}

describe('a Tapo account refused, then blocked (-40404 with sec_left)', () => {
  it('spends one login per poll once refused, sends nothing while blocked, says how long, and logs in once sec_left has passed', async () => {
    const clock = { ms: Date.UTC(2026, 0, 1) };
    const { server, poll } = await blockingPlug({ maxFailures: 5, blockSeconds: 1800 }, clock);

    // First poll: the account is not known to be refused yet (login v2 and v1, own and default credentials).
    const first = await poll();
    expect(first).toBeInstanceOf(TplinkAuthenticationError);
    expect((first as Error).message).toMatch(/refused login_device.*one login per request/);
    expect(server.logins.logins).toBe(4);

    // Second poll: one login, the fifth refused one: the device now blocks.
    await poll();
    expect(server.logins.logins).toBe(5);

    // Third poll: one login, answered -40404 with sec_left.
    clock.ms += 10_000;
    const blocked = await poll();
    expect(server.logins.logins).toBe(6);
    expect(blocked).toMatchObject({ code: 'TPLINK_AUTH', retryable: false, host: server.host, port: server.port });
    expect((blocked as Error).message).toMatch(/blocks logins for another 1790 s \(about 30 min\).*-40404/);

    // While it lasts, even the right password is not tried: each attempt may extend the block.
    clock.ms += 600_000;
    const waiting = await poll(owner);
    expect((waiting as Error).message).toMatch(/for another 1190 s \(about 20 min\).*no login tried/);
    expect(server.logins.logins).toBe(6);
    expect(server.stats.http).toBe(2 * 6);

    // Once sec_left has passed: the right password logs in.
    clock.ms += 1_190_000;
    const after = await poll(owner);
    expect(after).toMatchObject({ action: 'status', after: { relayState: 0 } });
    expect(server.logins.logins).toBe(7);
  });

  it('says how many attempts are left when the firmware reports it', async () => {
    const clock = { ms: Date.UTC(2026, 0, 1) };
    const { poll } = await blockingPlug({ maxFailures: 10, blockSeconds: 1800, reportAttempts: true }, clock);
    await poll();
    const err = await poll();
    expect((err as Error).message).toMatch(/the device allows 5 more before it blocks logins/);
  });
});
