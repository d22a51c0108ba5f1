/**
 * The button function in direct mode switches Kasa bulbs and light strips on XOR (no relay: their
 * light's `light_state.on_off`, switched through the lighting module), as the relay does. Its XOR
 * path switches relays only (its bundle stays small); a bulb's answer hands the device to the
 * newer-protocols part, which speaks their light over the same XOR. tplink-smarthome-simulator on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createTplinkDriver } from '../../../core/button/tplink-driver';
import { createNewerPlugs } from '../../../core/button/newer-plugs';
import { plugAction } from '../../../core/tplink/operations';
import { startSimulatedPlug, type SimulatedPlug } from '../../helpers/tplink-simulator';

let sim: SimulatedPlug | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('direct mode: Kasa bulbs and light strips on XOR', () => {
  it.each(['lb100', 'kl430'])('%s: read off, switched on, read on', async (model) => {
    sim = await startSimulatedPlug(model, 'Hall light');
    const driver = createTplinkDriver({ connectTimeoutMs: 1000, requestTimeoutMs: 2000, newer: () => Promise.resolve(createNewerPlugs()) });
    const target = { host: sim.host, port: sim.port };
    try {
      expect(await driver.read(target)).toEqual({ on: false, alias: 'Hall light' });
      expect(await driver.write(target, true)).toMatchObject({ on: true });
      expect((await plugAction(sim.address, 'status')).after.relayState).toBe(1);
      expect(await driver.read(target)).toMatchObject({ on: true });
    } finally {
      await driver.close?.();
    }
  });
});
