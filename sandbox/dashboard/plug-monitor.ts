/**
 * Watches the sandbox's plug over the TP-Link local protocol, as any client on the LAN would:
 * state, model, alias, energy where the device has a meter, and whether it answers at all.
 * Checks every few seconds and on demand; switching goes over the same protocol. Each check
 * opens its own connection and closes it, so the device is never held between checks (the button
 * Lambda talks to the same plug).
 */
import { errorMessage } from '../../core/errors';
import type { PlugStatus, SetPowerOptions } from '../../core/tplink/plug';
import { DashboardRequestError } from './errors';
import type { EnergyView, OutletView, PlugView } from './view';

/** The parts of core/tplink's Plug the monitor uses (tests may hand in their own). */
export interface PlugClient {
  status(): Promise<PlugStatus>;
  setPower(on: boolean, options?: SetPowerOptions): Promise<void>;
  session<T>(fn: (plug: PlugClient) => Promise<T>): Promise<T>;
  transport: { send(request: object): Promise<unknown> };
  close(): Promise<void>;
}

export interface PlugMonitorOptions {
  host: string;
  port: number;
  simulated: boolean;
  /** A fresh client for one check or one switch. */
  connect: () => PlugClient;
  /** Called with every new view after a check. */
  onView: (view: PlugView) => void;
  /** Between checks (default 2 s). */
  everyMs?: number;
  clock?: () => number;
}

export const PLUG_PROTOCOL = 'TP-Link local protocol (XOR over TCP)';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * `emeter.get_realtime` in either firmware's units (V1: W, V, A, kWh; V2: mW, mV, mA, Wh);
 * undefined when the device has no meter (it answers with a non-zero err_code) or says nothing usable.
 */
export function parseRealtime(reply: unknown): EnergyView | undefined {
  const rt = obj(obj(obj(reply)?.emeter)?.get_realtime);
  if (!rt || (rt.err_code !== undefined && rt.err_code !== 0)) return undefined;
  const powerW = num(rt.power_mw) !== undefined ? num(rt.power_mw)! / 1000 : num(rt.power);
  if (powerW === undefined) return undefined;
  const pick = (v2: unknown, v1: unknown, scale: number) => (num(v2) !== undefined ? num(v2)! / scale : num(v1));
  const voltageV = pick(rt.voltage_mv, rt.voltage, 1000);
  const currentA = pick(rt.current_ma, rt.current, 1000);
  const totalWh = num(rt.total_wh) ?? (num(rt.total) !== undefined ? num(rt.total)! * 1000 : undefined);
  return {
    powerW,
    ...(voltageV !== undefined ? { voltageV } : {}),
    ...(currentA !== undefined ? { currentA } : {}),
    ...(totalWh !== undefined ? { totalWh } : {}),
  };
}

export class PlugMonitor {
  private view: PlugView;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set after the first check that found no meter: not asked again. */
  private metered: boolean | undefined;
  private inFlight: Promise<PlugView> | undefined;
  private readonly options: PlugMonitorOptions;
  private readonly clock: () => number;

  constructor(options: PlugMonitorOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
    this.view = { host: options.host, port: options.port, simulated: options.simulated, protocol: PLUG_PROTOCOL, metered: false };
  }

  get current(): PlugView {
    return this.view;
  }

  /** Checks now and then every `everyMs`. */
  start(): Promise<PlugView> {
    return this.refresh();
  }

  /** Checks now (joining a check already under way). */
  refresh(): Promise<PlugView> {
    if (this.closed) return Promise.resolve(this.view);
    this.inFlight ??= this.check().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  /** Switches the plug (or outlet `child` of a strip) to the opposite of what it reports now. */
  async toggle(child?: number): Promise<PlugView> {
    const client = this.options.connect();
    try {
      await client.session(async (plug) => {
        const status = await plug.status();
        if (child === undefined) {
          await plug.setPower(status.relayState !== 1);
        } else {
          const outlet = status.children?.find((c) => c.index === child);
          if (!outlet) throw new DashboardRequestError(400, `${status.alias} at ${this.options.host}:${this.options.port} has no outlet ${child} (it has ${status.children?.length ?? 0})`);
          await plug.setPower(outlet.state !== 1, { child: outlet.id });
        }
      });
    } finally {
      await client.close().catch(() => undefined);
    }
    return this.refresh();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refresh(), this.options.everyMs ?? 2_000);
    this.timer.unref();
  }

  private async check(): Promise<PlugView> {
    const base = { host: this.options.host, port: this.options.port, simulated: this.options.simulated, protocol: PLUG_PROTOCOL };
    const client = this.options.connect();
    let next: PlugView;
    try {
      next = await client.session(async (plug) => {
        const status = await plug.status();
        const energyOf = async (childId?: string) => (this.metered === false ? undefined : this.energy(plug, childId));
        const children: OutletView[] | undefined = status.children
          ? await Promise.all(status.children.map(async (c) => {
              const energy = await energyOf(c.id);
              return { id: c.id, index: c.index, alias: c.alias, state: c.state, ...(energy ? { energy } : {}) };
            }))
          : undefined;
        const energy = children ? undefined : await energyOf();
        this.metered = children ? children.some((c) => c.energy) : energy !== undefined;
        return {
          ...base,
          online: true,
          model: status.model,
          alias: status.alias,
          ...(status.relayState !== undefined ? { relayState: status.relayState } : {}),
          ...(children ? { children } : {}),
          metered: this.metered,
          ...(energy ? { energy } : {}),
          checkedAt: new Date(this.clock()).toISOString(),
        };
      });
    } catch (err) {
      // What was last known stays readable (model, alias); the state is no longer vouched for.
      const { relayState: _r, children: _c, energy: _e, ...known } = this.view;
      next = { ...known, ...base, online: false, error: errorMessage(err) };
    } finally {
      await client.close().catch(() => undefined);
    }
    if (this.closed) return this.view;
    this.view = next;
    this.options.onView(next);
    return next;
  }

  private async energy(plug: PlugClient, childId?: string): Promise<EnergyView | undefined> {
    const request = { ...(childId ? { context: { child_ids: [childId] } } : {}), emeter: { get_realtime: {} } };
    try {
      return parseRealtime(await plug.transport.send(request));
    } catch {
      return undefined;
    }
  }
}
