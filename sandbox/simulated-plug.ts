/**
 * A simulated TP-Link XOR plug (tplink-smarthome-simulator's HS100, HS110 or HS300) on 127.0.0.1,
 * speaking the real protocol over TCP. Its UDP socket answers only the sender on loopback, and its
 * shared UDP server on 9999 is never started: nothing is broadcast, nothing on the LAN reaches it.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Device } from 'tplink-smarthome-simulator';
import { silentLogger, type Logger } from '../core/logger';
import { formatHostPort } from '../core/util/host-port';
import { ShadowplugError } from '../core/errors';

/** The simulated plug could not listen (its port was taken, or the address is not local). */
const simulatedPlugListenError = (message: string, cause: unknown): ShadowplugError => new ShadowplugError(message, { code: 'SANDBOX_PLUG_LISTEN', retryable: true, cause });

export type SimulatedModel = 'hs100' | 'hs110' | 'hs300';

export interface SimulatedPlugOptions {
  /** HS300 power strip (six outlets) instead of an HS100 plug. */
  strip?: boolean;
  /** Which device (default hs100, or hs300 with `strip`); hs110 has an energy meter. */
  model?: SimulatedModel;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  alias?: string;
  logger?: Logger;
}

/** Relay state as a user sees it: one relay for a plug, one per outlet for a strip. */
export interface PlugRelayState {
  model: string;
  alias: string;
  relayState?: 0 | 1;
  children?: { id: string; index: number; alias: string; state: 0 | 1 }[];
}

export interface SimulatedPlug {
  host: string;
  port: number;
  model: SimulatedModel;
  deviceId: string;
  /** Relay state read from the simulator's memory (no socket, exact at the instant). */
  state(): PlugRelayState;
  /** `change` fires with the new PlugRelayState right after a request changed a relay. */
  events: EventEmitter;
  close(): Promise<void>;
}

interface SimSysinfo {
  alias: string;
  model: string;
  deviceId: string;
  relay_state?: 0 | 1;
}
interface SimChild {
  sysinfo: { id: string; alias: string; state: 0 | 1 };
}

/** Attempts when the port the simulator picked is taken (see below). */
const START_ATTEMPTS = 5;

/**
 * The simulator binds UDP to a free port, then TCP to the same number, which another process
 * may hold: with port 0 that is a race it loses now and then (EADDRINUSE). Try a fresh port.
 */
export async function startSimulatedPlug(options: SimulatedPlugOptions = {}): Promise<SimulatedPlug> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EADDRINUSE' || (options.port ?? 0) !== 0 || attempt >= START_ATTEMPTS) {
        throw simulatedPlugListenError(
          `simulated ${modelOf(options).toUpperCase()} cannot listen on ${formatHostPort(options.host ?? '127.0.0.1', options.port ?? 0)}: ${(err as Error).message}`,
          err,
        );
      }
    }
  }
}

const modelOf = (options: SimulatedPlugOptions): SimulatedModel => options.model ?? (options.strip ? 'hs300' : 'hs100');

async function startOnce(options: SimulatedPlugOptions): Promise<SimulatedPlug> {
  const logger = options.logger ?? silentLogger;
  const model = modelOf(options);
  const host = options.host ?? '127.0.0.1';
  const device = new Device({
    model,
    address: host,
    port: options.port ?? 0,
    alias: options.alias ?? (model === 'hs300' ? 'sandbox strip' : 'sandbox plug'),
  });
  const events = new EventEmitter();
  // The simulator emits `error` for unparseable requests and socket errors; unhandled, that
  // would crash the sandbox. A misbehaving client is a log line, not a crash.
  device.deviceNetworking.on('error', (err: unknown) => logger.warn('simulated plug error', { err }));

  const state = (): PlugRelayState => {
    const sys = device.data.system.sysinfo as unknown as SimSysinfo;
    const base: PlugRelayState = { model: sys.model, alias: sys.alias };
    if (model === 'hs300') {
      const children = device.children as unknown as SimChild[];
      base.children = children.map((c, index) => ({
        id: c.sysinfo.id,
        index,
        alias: c.sysinfo.alias,
        state: c.sysinfo.state ? 1 : 0,
      }));
    } else {
      base.relayState = sys.relay_state ? 1 : 0;
    }
    return base;
  };

  const key = (s: PlugRelayState): string => JSON.stringify([s.relayState, s.children?.map((c) => c.state)]);
  let last = key(state());
  // `response` is emitted after the request was applied and before the reply is written.
  device.deviceNetworking.on('response', () => {
    const now = state();
    const k = key(now);
    if (k !== last) {
      last = k;
      events.emit('change', now);
    }
  });

  try {
    await device.start();
  } catch (err) {
    // The UDP socket may be bound while TCP failed: release it before trying again.
    await device.stop().catch(() => undefined);
    throw err;
  }
  // The simulator keeps client sockets open and its stop() waits for them: track and destroy.
  const sockets = new Set<Socket>();
  device.deviceNetworking.server!.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  let closed = false;
  return {
    host,
    port: device.port,
    model,
    deviceId: (device.data.system.sysinfo as unknown as SimSysinfo).deviceId,
    state,
    events,
    close: async () => {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await device.stop();
      events.removeAllListeners();
    },
  };
}
