/**
 * The sandbox's button function in direct mode uses the credentials given to the sandbox (as the
 * stack's secret would give them) for a KLAP plug: a simulated Tapo P110 on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveSandboxConfig } from '../../../sandbox/sandbox-config';
import type { SandboxEvent } from '../../../sandbox/event-log';
import { wireButtonLambda } from '../../../sandbox/wire-button';
import { startSimulatedDevice, type SimulatedDevice } from '../../../sandbox/plugs/simulated-devices';

const owner = { username: 'owner@example.com', password: 'sandbox secret 42' };
let plug: SimulatedDevice | undefined;
afterEach(async () => {
  await plug?.close();
  plug = undefined;
});

async function clickWith(plugCredentials?: typeof owner): Promise<SandboxEvent[]> {
  const events: SandboxEvent[] = [];
  const config = resolveSandboxConfig({ plugMode: 'direct', agents: false, writeInfoFile: false, ...(plugCredentials ? { plugCredentials } : {}) });
  const kettle = { id: 'kettle', hub: config.things[0]!, host: plug!.host, port: plug!.port };
  const button = wireButtonLambda(config, [kettle], (e) => void events.push(e), () => {
    throw new Error('direct mode needs no data plane');
  });
  await button.onRule({ serialNumber: config.buttonSerial, clickType: 'SINGLE', requestId: `r-${Math.random()}`, receivedAt: Date.now() });
  return events;
}

describe('the sandbox button function in direct mode', () => {
  it('switches a KLAP plug with the credentials given to the sandbox', async () => {
    plug = await startSimulatedDevice('p110-klap', { credentials: owner });
    const events = await clickWith(owner);
    expect(events.find((e) => e.type === 'click-done')).toMatchObject({ summary: 'toggle: Kettle OFF→ON' });
    expect(plug.states()).toEqual([true]);
  });

  it("without them, tries the sandbox's own account and the default ones, and says the plug refused them", async () => {
    plug = await startSimulatedDevice('p110-klap', { credentials: owner });
    const events = await clickWith();
    expect(events.find((e) => e.type === 'click-done')).toMatchObject({ summary: expect.stringContaining('authentication failed') });
    expect(plug.states()).toEqual([false]);
  });
});
