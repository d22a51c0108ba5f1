/**
 * Carrying out a plan through a `PlugDriver` (straight to the plug, or through its shadow: this file
 * does not care which). Toggle over several targets: if any is on, all go off; else all go on.
 * Outlets of one device one after another (plugs misbehave under competing connections), devices
 * in parallel. A failing target is recorded as a `ButtonTargetError`; nothing here throws.
 */
import { ButtonTargetError } from './errors';
import type { ActPlan } from './decide';
import { byDevice, formatTarget, type PlugTarget } from './targets';

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
  confirmed?: boolean;
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
  await Promise.all(
    byDevice(targets).map(async (group) => {
      for (const t of group) await work(t);
    }),
  );
}

function targetOf(r: PlugTarget): PlugTarget {
  const t: PlugTarget = { host: r.host, port: r.port };
  if (r.child !== undefined) t.child = r.child;
  if (r.plug !== undefined) t.plug = r.plug;
  return t;
}

export async function execute(plan: ActPlan, driver: PlugDriver): Promise<ExecuteResult> {
  const results: TargetResult[] = plan.targets.map((t) => ({ target: formatTarget(t), ...targetOf(t), status: 'failed' }));

  // Every target is read first: the toggle needs all states, and the owner wants "before".
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

  // Unreadable targets are not written: the same fault would only cost a second timeout.
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
  return { power, status: failed === 0 ? 'done' : failed === results.length ? 'failed' : 'partial', targets: results };
}

/**
 * A driver whose code is loaded at the first click that needs it (each plug mode's driver is a
 * file of its own beside the button bundle, so a cold start loads neither).
 */
export function lazyDriver(load: () => Promise<PlugDriver>): PlugDriver {
  let loading: Promise<PlugDriver> | undefined;
  let loaded: PlugDriver | undefined;
  let click: { requestId?: string } | undefined;
  const driver = async (): Promise<PlugDriver> => {
    if (loaded) return loaded;
    // A failed load (a missing file) is tried again at the next click, not remembered.
    const d = await (loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));
    if (!loaded) {
      loaded = d;
      // The click began before its driver was there: tell it now, before its first read.
      if (click) d.begin?.(click);
    }
    return d;
  };
  return {
    read: async (target) => (await driver()).read(target),
    write: async (target, on) => (await driver()).write(target, on),
    close: async () => loaded?.close?.(),
    begin(c) {
      click = c;
      loaded?.begin?.(c);
    },
    async alreadyHandled(targets) {
      const d = await driver();
      return d.alreadyHandled ? d.alreadyHandled(targets) : false;
    },
  };
}
