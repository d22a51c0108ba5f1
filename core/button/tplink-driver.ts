/**
 * The direct plug driver: XOR on TCP 9999 first, here; a device that shows it is another kind is
 * handed to newer-plugs.ts, loaded on first need (an XOR-only click never loads it), and remembered
 * as such while the container is warm. One connection per device for the length of a click
 * (outlets of a strip share it), closed by `close()`.
 */
import { selectChild } from '../tplink/commands';
import { notThisKind } from '../tplink/errors';
import { IotPlug } from '../tplink/iot-plug';
import type { PlugDevice, PlugStatus } from '../tplink/plug-device';
import { XorTransport, type XorTransportOptions } from '../tplink/xor-transport';
import type { PlugDriver, TargetState } from './execute';
import type { NewerPlugs } from './newer-plugs';
import { deviceKey, type PlugTarget } from './targets';

export interface TplinkDriverOptions extends Pick<XorTransportOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'socketFactory' | 'logger'> {
  /** KLAP/AES plugs: how to get their driver part, at the first plug that is not XOR (none: XOR only). */
  newer?: () => Promise<NewerPlugs>;
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

export function createTplinkDriver(options: TplinkDriverOptions = {}): PlugDriver {
  const { newer: loadNewer, ...plugOptions } = options;
  const plugs = new Map<string, IotPlug>();
  const notXor = new Set<string>();
  let newer: Promise<NewerPlugs> | undefined;
  // A failed load (a missing file) is tried again at the next such plug, not remembered.
  const newerPlugs = () =>
    (newer ??= loadNewer!().catch((err: unknown) => {
      newer = undefined;
      throw err;
    }));
  const lastAlias = new Map<string, string>();

  async function use<T>(target: PlugTarget, op: (device: PlugDevice) => Promise<T>): Promise<T> {
    const key = deviceKey(target);
    if (loadNewer && notXor.has(key)) return (await newerPlugs()).use(target, op);
    let plug = plugs.get(key);
    if (!plug) {
      const endpoint = { host: target.host, port: target.port };
      plug = new IotPlug(endpoint, new XorTransport(endpoint, plugOptions));
      plugs.set(key, plug);
    }
    try {
      return await op(plug);
    } catch (err) {
      if (!loadNewer || !notThisKind(err)) throw err;
      plugs.delete(key);
      await plug.close();
      notXor.add(key);
      return (await newerPlugs()).use(target, op, err);
    }
  }

  return {
    async read(target) {
      const state = stateOf(target, await use(target, (d) => d.status({ energy: false })));
      if (state.alias !== undefined) lastAlias.set(JSON.stringify(target), state.alias);
      return state;
    },
    async write(target, on) {
      await use(target, (d) => d.setPower(on, target.child === undefined ? {} : { child: target.child }));
      const alias = lastAlias.get(JSON.stringify(target));
      return alias === undefined ? { on } : { on, alias };
    },
    async close() {
      const all = [...plugs.values()];
      plugs.clear();
      lastAlias.clear();
      await Promise.allSettled([...all.map((p) => p.close()), newer?.then((n) => n.close(), () => undefined)]);
    },
  };
}
