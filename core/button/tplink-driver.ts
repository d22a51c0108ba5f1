/**
 * The plug driver of today: straight to the plug over TCP 9999 with the TP-Link client. One
 * `Plug` per device for the length of a click (outlets of a strip share it), closed by `close()`.
 * After a set, the state is the one the device acknowledged (as `plugAction` does), not queried again.
 */
import { selectChild } from '../tplink/commands';
import { Plug, type PlugOptions, type PlugStatus } from '../tplink/plug';
import type { PlugDriver, TargetState } from './execute';
import { deviceKey, type PlugTarget } from './targets';

export type TplinkDriverOptions = Pick<PlugOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'socketFactory' | 'logger'>;

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
  const plugs = new Map<string, Plug>();
  const plugFor = (target: PlugTarget): Plug => {
    const key = deviceKey(target);
    let plug = plugs.get(key);
    if (!plug) {
      plug = new Plug({ host: target.host, port: target.port }, options);
      plugs.set(key, plug);
    }
    return plug;
  };
  const lastAlias = new Map<string, string>();

  return {
    async read(target) {
      const status = await plugFor(target).status();
      const state = stateOf(target, status);
      if (state.alias !== undefined) lastAlias.set(JSON.stringify(target), state.alias);
      return state;
    },
    async write(target, on) {
      await plugFor(target).setPower(on, target.child === undefined ? {} : { child: target.child });
      const alias = lastAlias.get(JSON.stringify(target));
      return alias === undefined ? { on } : { on, alias };
    },
    async close() {
      const all = [...plugs.values()];
      plugs.clear();
      lastAlias.clear();
      await Promise.allSettled(all.map((p) => p.close()));
    },
  };
}
