/**
 * Status, on, off or toggle of a plug, a strip outlet or a whole strip: one connection, one query, at
 * most one set; `after` is `before` with the acknowledged set, not queried again.
 */
import { parseAddress, type PlugAddress } from './address';
import type { ChildSelector, PlugChild, RelayState } from './commands';
import { withPlug, type ConnectOptions, type ConnectionKind, type ConnectedPlug } from './connect';
import type { PlugStatus } from './plug';

export type PlugActionName = 'status' | 'on' | 'off' | 'toggle';

export interface PlugActionOptions extends ConnectOptions {
  /** One outlet of a strip: full id, 2-digit suffix, or index. */
  child?: ChildSelector;
}

export interface PlugActionResult {
  action: PlugActionName;
  before: PlugStatus;
  after: PlugStatus;
  /** Whether a set was sent (false for status, and for on/off when already so). */
  changed: boolean;
  /** The outlet acted on, when a child was chosen. */
  child?: PlugChild;
  /** How the device was spoken to. */
  connection: ConnectionKind;
}

/** Runs one action. A whole strip toggles like a wall switch: any outlet on turns all off, else all on. */
export async function plugAction(
  address: PlugAddress | string,
  action: PlugActionName,
  options: PlugActionOptions = {},
): Promise<PlugActionResult> {
  const where = typeof address === 'string' ? parseAddress(address) : address;
  return withPlug(where, options, (connected) => runAction(connected, action, options));
}

async function runAction(connected: ConnectedPlug, action: PlugActionName, options: PlugActionOptions): Promise<PlugActionResult> {
  const plug = connected.device;
  const connection = connected.kind;
  return plug.session(async () => {
    // Switching needs only the relay state; a meter read before the switch would be stale after it.
    const before = await plug.status({ energy: action === 'status' });
    const child = options.child === undefined ? undefined : await plug.resolveChild(options.child);
    const current = currentState(before, child);
    const target = action === 'status' ? undefined : desiredState(action, current);
    if (target === undefined || (action !== 'toggle' && current.every((s) => s === target))) {
      return { action, before, after: before, changed: false, connection, ...(child ? { child } : {}) };
    }
    await plug.setPower(target === 1, child ? { child: child.id } : {});
    const after = applied(before, target, child);
    const afterChild = child ? after.children?.[child.index] : undefined;
    return { action, before, after, changed: true, connection, ...(afterChild ? { child: afterChild } : {}) };
  });
}

/** The relay states the action concerns: the plug's, one outlet's, or every outlet's. */
function currentState(status: PlugStatus, child: PlugChild | undefined): RelayState[] {
  if (child) return [child.state];
  if (status.children) return status.children.map((c) => c.state);
  return [status.relayState ?? 0];
}

function desiredState(action: Exclude<PlugActionName, 'status'>, current: RelayState[]): RelayState {
  if (action === 'on') return 1;
  if (action === 'off') return 0;
  return current.some((s) => s === 1) ? 0 : 1;
}

function applied(before: PlugStatus, state: RelayState, child: PlugChild | undefined): PlugStatus {
  const after: PlugStatus = { ...before };
  if (before.children) {
    after.children = before.children.map((c) => (child === undefined || c.id === child.id ? { ...c, state } : { ...c }));
  } else {
    after.relayState = state;
  }
  return after;
}
