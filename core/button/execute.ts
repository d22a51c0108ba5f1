/**
 * Carrying out a plan through a `PlugDriver`. The driver is how a target is read and switched:
 * straight to the plug (`tplink-driver.ts`: XOR, KLAP, AES), or a plug shadow's `desired.power` (relay) —
 * this file does not care which.
 *
 * Toggle over several targets: if any target is on, all go off; else all go on. Outlets of one
 * device are handled one after another (plugs misbehave under competing connections), devices in
 * parallel. A target that fails is recorded as a `ButtonTargetError` and the others go on; nothing
 * here throws.
 */
import { ButtonTargetError } from './errors';
import type { ActPlan } from './decide';
import { deviceKey, formatTarget, type PlugTarget } from './targets';

export interface TargetState {
  on: boolean;
  /** The plug's (or outlet's) name, for messages. */
  alias?: string;
  /** false: the request was handed on (relay) but its outcome has not been seen yet. */
  confirmed?: boolean;
  /** Relay: a newer click's request (this id) replaced this one before the hub acted on it; `on` is what that one asks. */
  supersededBy?: string;
}

export interface PlugDriver {
  /** The target's current state. */
  read(target: PlugTarget): Promise<TargetState>;
  /** Switches the target and returns its state afterwards. */
  write(target: PlugTarget, on: boolean): Promise<TargetState>;
  /** Releases connections; the driver stays usable. */
  close?(): Promise<void>;
  /** A driver that carries the click's request id (relay) is told each click first. */
  begin?(click: { requestId?: string }): void;
  /** Whether this click was already carried out elsewhere (another container): then nothing is done. */
  alreadyHandled?(targets: readonly PlugTarget[]): Promise<boolean>;
}

/** `superseded`: a newer click's request replaced this one (relay); the plug follows that one. */
export type TargetStatus = 'switched' | 'unchanged' | 'superseded' | 'failed';

export interface TargetResult extends PlugTarget {
  /** `host:port[#child]`. */
  target: string;
  alias?: string;
  before?: boolean;
  after?: boolean;
  status: TargetStatus;
  /** false: switched by request, its outcome not yet seen (relay). */
  confirmed?: boolean;
  /** The newer request that superseded this click's (status `superseded`). */
  supersededBy?: string;
  error?: ButtonTargetError;
}

export interface ExecuteResult {
  /** The power every target was driven to; absent when no target could be read for a toggle. */
  power?: boolean;
  status: 'done' | 'partial' | 'failed';
  targets: TargetResult[];
}

/** Runs `work` over the targets: device groups in parallel, targets within a device in order. */
async function perDevice(targets: TargetResult[], work: (t: TargetResult) => Promise<void>): Promise<void> {
  const groups = new Map<string, TargetResult[]>();
  for (const t of targets) {
    const key = deviceKey(t);
    const group = groups.get(key);
    if (group) group.push(t);
    else groups.set(key, [t]);
  }
  await Promise.all(
    [...groups.values()].map(async (group) => {
      for (const t of group) await work(t);
    }),
  );
}

function targetOf(r: TargetResult): PlugTarget {
  const t: PlugTarget = { host: r.host, port: r.port };
  if (r.child !== undefined) t.child = r.child;
  if (r.plug !== undefined) t.plug = r.plug;
  return t;
}

export async function execute(plan: ActPlan, driver: PlugDriver): Promise<ExecuteResult> {
  const results: TargetResult[] = plan.targets.map((t) => {
    const r: TargetResult = { target: formatTarget(t), host: t.host, port: t.port, status: 'failed' };
    if (t.child !== undefined) r.child = t.child;
    if (t.plug !== undefined) r.plug = t.plug;
    return r;
  });

  // 1. Read every target: the toggle needs all states, and the owner wants "before".
  await perDevice(results, async (r) => {
    try {
      const state = await driver.read(targetOf(r));
      r.before = state.on;
      if (state.alias !== undefined) r.alias = state.alias;
    } catch (err) {
      r.error = new ButtonTargetError(r, 'reading the state', err);
    }
  });

  const readable = results.filter((r) => r.before !== undefined);
  if (readable.length === 0) return { status: 'failed', targets: results };
  const power = plan.action === 'on' ? true : plan.action === 'off' ? false : !readable.some((r) => r.before === true);

  // 2. Switch those that differ. Unreadable targets are not written: the same fault would only
  //    cost a second timeout.
  await perDevice(readable, async (r) => {
    if (r.before === power) {
      r.after = power;
      r.status = 'unchanged';
      return;
    }
    try {
      const state = await driver.write(targetOf(r), power);
      r.after = state.on;
      if (state.alias !== undefined) r.alias = state.alias;
      if (state.confirmed === false) r.confirmed = false;
      if (state.supersededBy !== undefined) {
        r.status = 'superseded';
        r.supersededBy = state.supersededBy;
      } else if (state.on !== power) {
        r.error = new ButtonTargetError(r, 'switching', new Error(`the relay reads ${state.on ? 'on' : 'off'} after being set ${power ? 'on' : 'off'}`));
      } else {
        r.status = 'switched';
      }
    } catch (err) {
      r.error = new ButtonTargetError(r, `switching ${power ? 'on' : 'off'}`, err);
    }
  });

  const failed = results.filter((r) => r.status === 'failed').length;
  const status = failed === 0 ? 'done' : failed === results.length ? 'failed' : 'partial';
  return { power, status, targets: results };
}
