/**
 * The direct driver's devices its XOR path cannot switch: KLAP and AES plugs (HTTP), and Kasa
 * bulbs and light strips (XOR, but no relay). Kinds and sessions are kept for the driver's life (a
 * warm container); credentials are asked for only when such a device is opened, and once more when
 * it refuses them and the source has newer ones. Loaded only when a plug turns out not to be XOR.
 */
import { DEFAULT_PORT, type PlugAddress } from '../tplink/address';
import { DetectionCache, openPlug, type ConnectOptions } from '../tplink/connect';
import { TplinkAuthenticationError, TplinkProtocolError } from '../tplink/errors';
import type { PlugDevice } from '../tplink/plug';
import { SessionCache } from '../tplink/session-transport';
import type { PlugCredentialsSource } from './secret-credentials';
import { deviceKey, type PlugTarget } from './targets';

export interface NewerPlugsOptions {
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** TP-Link account credentials (none: the devices' well-known defaults are tried). */
  credentials?: PlugCredentialsSource;
}

export interface NewerPlugs {
  /**
   * Runs `op` on the target's device, opened (and its kind detected, starting at KLAP when
   * `xorFailure` says XOR was just tried) at its first use in this click.
   */
  use<T>(target: PlugTarget, op: (device: PlugDevice) => Promise<T>, xorFailure?: unknown): Promise<T>;
  /** Closes this click's devices; kinds and sessions stay. */
  close(): Promise<void>;
}

export function createNewerPlugs(options: NewerPlugsOptions = {}): NewerPlugs {
  const sessions = new SessionCache();
  const source = options.credentials;
  const connect: ConnectOptions = {
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    detection: new DetectionCache(),
    sessions,
    ...(source ? { credentials: () => source.get() } : {}),
  };
  const open = new Map<string, PlugDevice>();

  async function once<T>(target: PlugTarget, op: (device: PlugDevice) => Promise<T>, xorFailure: unknown): Promise<T> {
    const key = deviceKey(target);
    const device = open.get(key);
    if (device) return op(device);
    // A well-formed XOR answer without `relay_state` (a bulb or light strip): the full IOT client switches its light.
    const xorLight = xorFailure instanceof TplinkProtocolError && xorFailure.reason === 'unexpected-reply';
    // Port 9999, the default, means "the plug at this host" (KLAP/AES on port 80); another port is used for every kind.
    const address: PlugAddress = target.port === DEFAULT_PORT ? { host: target.host } : { host: target.host, port: target.port };
    const { result, connected } = xorLight
      ? await openPlug({ host: target.host, port: target.port }, { ...connect, protocol: 'xor' }, (c) => op(c.device))
      : await openPlug(address, connect, (c) => op(c.device), xorFailure);
    open.set(key, connected.device);
    return result;
  }

  return {
    async use(target, op, xorFailure) {
      try {
        return await once(target, op, xorFailure);
      } catch (err) {
        if (!(err instanceof TplinkAuthenticationError) || !(await source?.refused?.())) throw err;
        return once(target, op, xorFailure);
      }
    },
    async close() {
      const all = [...open.values()];
      open.clear();
      await Promise.allSettled(all.map((d) => d.close()));
      // Sessions stay for the next click; their idle connections would not survive a frozen container.
      sessions.closeConnections();
    },
  };
}
