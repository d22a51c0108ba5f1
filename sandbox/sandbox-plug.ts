/**
 * The sandbox's plugs, one per `--plug`: a simulated device on 127.0.0.1 (XOR through
 * tplink-smarthome-simulator, KLAP/AES from sandbox/plugs) that narrates its relays and can be
 * stopped and started on its port, or the user's real plug on the LAN, read when asked.
 */
import { withPlug } from '../core/tplink/connect';
import type { Credentials } from '../core/tplink/klap-crypto';
import type { PlugConfig } from '../core/plug-relay/config';
import type { SandboxConfig } from './sandbox-config';
import type { Emit } from './narration';
import { DEFAULT_PLUG_ID, kindProtocol, type SandboxPlugKind, type SandboxPlugSpec } from './plug-spec';
import { SimulatedSmartDevice } from './plugs/smart-device';
import { startSimulatedDevice, type SimulatedDevice, type SimulatedDeviceKind } from './plugs/simulated-devices';
import { startSimulatedPlug, type PlugRelayState, type SimulatedModel, type SimulatedPlug } from './simulated-plug';
import type { Teardown } from './teardown';

export interface SandboxPlug {
  id: string;
  /** The thing whose agent drives it (relay mode). */
  thing: string;
  kind: SandboxPlugKind | 'real';
  /** Simulated: what it speaks (a real plug's is detected). */
  protocol?: 'xor' | 'klap' | 'aes';
  family?: 'iot' | 'smart';
  /** Where the button function (direct) or the hub's agent (relay) finds it. */
  address: { host: string; port: number };
  /** One outlet of a strip; absent: the whole device. */
  outlet?: number | string;
  /** Simulated: HS100, P110, … */
  model?: string;
  simulated: boolean;
  /** The whole device's relays now (simulated: from its memory; real: asked over the LAN). */
  state(): Promise<PlugRelayState>;
  /** Simulated: the relays from memory, exact at the instant. */
  stateNow?: () => PlugRelayState;
  /** Simulated: close its port (an unreachable plug). */
  stop(): Promise<void>;
  /** Simulated: listen again on the same port, relays as they were (XOR: its relays start off again). */
  start(): Promise<void>;
}

/** The plug as the relay configuration names it (`id@thing=host:port[#outlet]`, and how to speak to it). */
export function plugConfigOf(plug: SandboxPlug): PlugConfig {
  return {
    id: plug.id,
    hub: plug.thing,
    ...plug.address,
    ...(plug.outlet !== undefined ? { child: plug.outlet } : {}),
    // A simulated plug's kind is known: the hub need not detect it (a real one's is detected).
    ...(plug.protocol !== undefined ? { protocol: plug.protocol, family: plug.family } : {}),
  };
}

/** True when the plug (or its outlet; a whole strip: every outlet) is on. */
export function isOn(state: PlugRelayState, outlet?: number | string): boolean {
  if (!state.children) return state.relayState === 1;
  if (outlet === undefined) return state.children.every((c) => c.state === 1);
  const child = typeof outlet === 'number' ? state.children[outlet] : state.children.find((c) => c.id === outlet || c.id.endsWith(outlet));
  return child?.state === 1;
}

export async function startSandboxPlugs(config: SandboxConfig, emit: Emit, teardown: Teardown): Promise<SandboxPlug[]> {
  const plugs: SandboxPlug[] = [];
  for (const spec of config.plugs) {
    const plug = spec.kind ? await simulatedPlug({ ...spec, kind: spec.kind }, config, emit) : realPlug(spec, config.plugCredentials);
    teardown.add(`plug ${spec.id}`, () => plug.stop());
    plugs.push(plug);
  }
  return plugs;
}

function realPlug(spec: SandboxPlugSpec & { thing: string }, credentials: Credentials): SandboxPlug {
  const address = spec.address!;
  return {
    id: spec.id,
    thing: spec.thing,
    kind: 'real',
    address,
    ...(spec.outlet !== undefined ? { outlet: spec.outlet } : {}),
    simulated: false,
    state: () =>
      withPlug(address, { credentials }, async ({ device }) => {
        const { model, alias, relayState, children } = await device.status();
        return { model, alias, relayState, children };
      }),
    stop: async () => undefined,
    start: async () => undefined,
  };
}

/** One simulated device, narrated; restartable on its port. */
async function simulatedPlug(spec: SandboxPlugSpec & { kind: SandboxPlugKind; thing: string }, config: SandboxConfig, emit: Emit): Promise<SandboxPlug> {
  const { kind } = spec;
  const narrate = (state: PlugRelayState) => emit({ type: 'plug', plugId: spec.id, state });
  const xor = kind === 'hs100' || kind === 'hs110' || kind === 'hs300';
  let running: { close(): Promise<void>; stateNow(): PlugRelayState; port: number } | undefined;
  let http: SimulatedDevice | undefined;

  const startXor = async (port: number) => {
    // The default plug keeps the simulator's own name ("sandbox plug"); others are told apart by id.
    const alias = spec.id === DEFAULT_PLUG_ID ? {} : { alias: `sandbox ${spec.id}` };
    const sim: SimulatedPlug = await startSimulatedPlug({ model: kind as SimulatedModel, port, ...alias, logger: config.logger.child({ component: 'plug', plug: spec.id }) });
    sim.events.on('change', narrate);
    return { close: () => sim.close(), stateNow: () => sim.state(), port: sim.port };
  };
  const startHttp = async (port: number) => {
    const device = await startSimulatedDevice(kind as SimulatedDeviceKind, { credentials: config.plugCredentials, port, ...(http ? { model: http.model } : {}) });
    if (!http) device.model.events.on('change', () => narrate(httpState(device)));
    http = device;
    return { close: () => device.close(), stateNow: () => httpState(device), port: device.port };
  };
  const start = (port: number) => (xor ? startXor(port) : startHttp(port));
  running = await start(0);
  const port = running.port;
  const { protocol, family } = kindProtocol(kind);
  let lastState = running.stateNow();
  const stateNow = () => running?.stateNow() ?? lastState;
  return {
    id: spec.id,
    thing: spec.thing,
    kind,
    protocol,
    family,
    address: { host: '127.0.0.1', port },
    ...(spec.outlet !== undefined ? { outlet: spec.outlet } : {}),
    model: lastState.model.replace(/\(.*\)$/, '').toUpperCase(),
    simulated: true,
    state: async () => stateNow(),
    stateNow,
    async stop() {
      if (!running) return;
      lastState = running.stateNow();
      const r = running;
      running = undefined;
      await r.close();
    },
    async start() {
      if (running) return;
      running = await start(port);
    },
  };
}

function httpState(device: SimulatedDevice): PlugRelayState {
  const m = device.model;
  if (m instanceof SimulatedSmartDevice) {
    const base: PlugRelayState = { model: m.model, alias: m.nickname };
    if (m.outlets) base.children = m.outlets.map((o, index) => ({ id: o.deviceId, index, alias: o.nickname, state: o.on ? 1 : 0 }));
    else base.relayState = m.on ? 1 : 0;
    return base;
  }
  return { model: m.model, alias: m.alias, relayState: m.on ? 1 : 0 };
}
