/**
 * The sandbox's plug: a simulated HS100 (or HS300 strip) on 127.0.0.1 that narrates its relay
 * changes, or the user's real plug on the LAN, read over TCP when asked.
 */
import { Plug } from '../core/tplink/plug';
import type { SandboxConfig } from './sandbox-config';
import type { Emit } from './narration';
import { startSimulatedPlug, type PlugRelayState, type SimulatedPlug } from './simulated-plug';
import type { Teardown } from './teardown';

export interface SandboxPlug {
  /** Where the button Lambda finds it. */
  address: { host: string; port: number };
  /** Set when the plug is simulated. */
  simulated?: SimulatedPlug;
  /** The relay state now (simulated: from its memory; real: queried over TCP). */
  state(): Promise<PlugRelayState>;
}

export async function startSandboxPlug(config: SandboxConfig, emit: Emit, teardown: Teardown): Promise<SandboxPlug> {
  const { realPlug } = config;
  if (realPlug) {
    const client = new Plug(realPlug);
    teardown.add('plug client', () => client.close());
    return {
      address: realPlug,
      async state() {
        const s = await client.status();
        return { model: s.model, alias: s.alias, ...(s.relayState !== undefined ? { relayState: s.relayState } : {}), ...(s.children ? { children: s.children } : {}) };
      },
    };
  }
  const simulated = await startSimulatedPlug({ strip: config.strip, logger: config.logger.child({ component: 'plug' }) });
  teardown.add('simulated plug', () => simulated.close());
  simulated.events.on('change', (state: PlugRelayState) => emit({ type: 'plug', state }));
  return { address: { host: simulated.host, port: simulated.port }, simulated, state: async () => simulated.state() };
}
