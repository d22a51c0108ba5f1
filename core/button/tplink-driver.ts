/**
 * The direct plug driver: from the function straight to the plug, whatever it speaks — XOR on TCP
 * 9999 (IOT), KLAP v1/v2 (IOT or SMART) or AES (SMART) on HTTP — through core/tplink/connect.ts.
 * The kind found and the KLAP/AES sessions are kept per device for the driver's life (a warm
 * Lambda container), so later clicks go straight to the plug. Credentials are asked for only when
 * a KLAP or AES device is opened. One open device per plug for the length of a click (outlets of a
 * strip share it), closed by `close()`. After a set, the state is the one the device acknowledged.
 */
import { DEFAULT_PORT, type PlugAddress } from '../tplink/address';
import { selectChild } from '../tplink/commands';
import { DetectionCache, openPlug, type ConnectOptions } from '../tplink/connect';
import { TplinkAuthenticationError } from '../tplink/errors';
import type { PlugDevice, PlugOptions, PlugStatus } from '../tplink/plug';
import { SessionCache } from '../tplink/session-transport';
import type { PlugDriver, TargetState } from './execute';
import type { PlugCredentialsSource } from './plug-credentials';
import { deviceKey, type PlugTarget } from './targets';

export interface TplinkDriverOptions extends Pick<PlugOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'socketFactory' | 'logger'> {
  /** TP-Link account credentials for KLAP and AES plugs (default: none; the devices' defaults are tried). */
  credentials?: PlugCredentialsSource;
  /** Kinds found per device (default: the driver's own). */
  detection?: DetectionCache;
  /** KLAP/AES sessions per device (default: the driver's own). */
  sessions?: SessionCache;
}

function stateOf(target: PlugTarget, status: PlugStatus): TargetState {
  if (target.child !== undefined) {
    // PlugStatus carries both the endpoint (host, port) and the sysinfo fields selectChild reads.
    const child = selectChild(status, status, target.child);
    return { on: child.state === 1, alias: child.alias };
  }
  if (status.relayState !== undefined) return { on: status.relayState === 1, alias: status.alias };
  // A whole strip: on when any outlet is on (the same rule as a toggle over several targets).
  return { on: (status.children ?? []).some((c) => c.state === 1), alias: status.alias };
}

/**
 * Port 9999, the default, means "the plug at this host": XOR is tried there and KLAP/AES on HTTP
 * port 80. Another port is used for every kind (a simulator, a port forward).
 */
function addressOf(target: PlugTarget): PlugAddress {
  return target.port === DEFAULT_PORT ? { host: target.host } : { host: target.host, port: target.port };
}

const refusedCredentials = (err: unknown) => err instanceof TplinkAuthenticationError;

export function createTplinkDriver(options: TplinkDriverOptions = {}): PlugDriver {
  const detection = options.detection ?? new DetectionCache();
  const sessions = options.sessions ?? new SessionCache();
  const source = options.credentials;
  const connect: ConnectOptions = {
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    socketFactory: options.socketFactory,
    logger: options.logger,
    detection,
    sessions,
    ...(source ? { credentials: () => source.get() } : {}),
  };
  const open = new Map<string, PlugDevice>();
  const lastAlias = new Map<string, string>();

  /** Runs `op` on the target's device, opening (and if needed detecting) it at its first use in this click. */
  async function use<T>(target: PlugTarget, op: (device: PlugDevice) => Promise<T>): Promise<T> {
    const key = deviceKey(target);
    const device = open.get(key);
    if (device) return op(device);
    const { result, connected } = await openPlug(addressOf(target), connect, (c) => op(c.device));
    open.set(key, connected.device);
    return result;
  }

  /** As `use`, once more when the device refused the credentials and the source found newer ones. */
  async function withCredentials<T>(target: PlugTarget, op: (device: PlugDevice) => Promise<T>): Promise<T> {
    try {
      return await use(target, op);
    } catch (err) {
      if (!refusedCredentials(err) || !(await source?.refused?.())) throw err;
      return use(target, op);
    }
  }

  return {
    async read(target) {
      const state = stateOf(target, await withCredentials(target, (d) => d.status()));
      if (state.alias !== undefined) lastAlias.set(JSON.stringify(target), state.alias);
      return state;
    },
    async write(target, on) {
      await withCredentials(target, (d) => d.setPower(on, target.child === undefined ? {} : { child: target.child }));
      const alias = lastAlias.get(JSON.stringify(target));
      return alias === undefined ? { on } : { on, alias };
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      lastAlias.clear();
      await Promise.allSettled(all.map((d) => d.close()));
      // Sessions stay for the next click; their idle connections would not survive a frozen container.
      sessions.closeConnections();
    },
  };
}
