import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';
import { discover } from '../../../core/tplink/discovery';

let sims: SimulatedPlug[] = [];

afterEach(async () => {
  for (const s of sims) await s.stop();
  sims = [];
});

describe('discover (UDP, unicast to 127.0.0.1 only)', () => {
  it('lists a strip once, with full outlet ids although UDP replies carry only suffixes', async () => {
    const s = await startSimulatedPlug('hs300');
    sims.push(s);
    const found = await discover({ target: { host: '127.0.0.1', port: s.port }, timeoutMs: 400 });
    expect(found).toHaveLength(1); // three probes, one entry
    expect(found[0]).toMatchObject({ host: '127.0.0.1', port: s.port, alias: 'Mock hs300' });
    expect(found[0]!.children?.map((c) => c.id)).toEqual(['00', '01', '02', '03', '04', '05'].map((x) => found[0]!.deviceId + x));
  });

  it('finds bulbs too, on or off by their light', async () => {
    const s = await startSimulatedPlug('lb100');
    sims.push(s);
    const found = await discover({ target: { host: '127.0.0.1', port: s.port }, timeoutMs: 300 });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ model: expect.stringMatching(/^LB100/) as unknown, relayState: 0, light: 'bulb' });
  });

  it('returns nothing, without error, when nobody answers', async () => {
    // It ends at its own 200 ms timeout; the test's timeout is the bound, not a stopwatch.
    expect(await discover({ target: { host: '127.0.0.1', port: 9 }, timeoutMs: 200 })).toEqual([]);
  }, 10_000);
});

describe('discover: errors dgram throws instead of emitting', () => {
  it('rejects (socket closed) on a port dgram refuses, instead of an uncaught exception from a timer', async () => {
    // A search timeout far beyond the test's own: only ending at the first failed probe can pass.
    await expect(discover({ target: { host: '127.0.0.1', port: 70000 }, timeoutMs: 600_000 })).rejects.toMatchObject({
      code: 'ERR_SOCKET_BAD_PORT',
    });
  }, 10_000);
});
