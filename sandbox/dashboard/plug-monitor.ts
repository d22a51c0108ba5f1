/**
 * Watches the sandbox's first plug as any LAN client would, in whatever it speaks: state, model,
 * alias, energy (read as the hub's agent reads it) and the protocol that answered. Checks every few
 * seconds and on demand; each check closes its connection, so the device is never held between
 * checks (the button Lambda and the hubs talk to it too).
 */
import { errorMessage } from '../../core/errors';
import { mapLimit } from '../../core/util/map-limit';
import { AesTransport } from '../../core/tplink/aes-transport';
import { withPlug, type ConnectedPlug, type ConnectionKind, type ConnectOptions } from '../../core/tplink/connect';
import { KlapTransport } from '../../core/tplink/klap-transport';
import { SessionCache } from '../../core/tplink/session-transport';
import { readMeter, type MeterReading, type MeterSource } from '../../core/tplink/meter';
import type { PlugDevice } from '../../core/tplink/plug';
import { DashboardRequestError } from '../errors';
import type { EnergyView, OutletView, PlugView } from './view';

/** Runs `fn` with a freshly connected plug and closes it afterwards ({@link tplinkConnector}; tests hand in their own). */
export type PlugConnector = <T>(fn: (connected: ConnectedPlug) => Promise<T>) => Promise<T>;

export interface PlugMonitorOptions {
  host: string;
  port: number;
  simulated: boolean;
  /** A fresh connection for one check or one switch. */
  connect: PlugConnector;
  /** Shown until a check has reached the plug (e.g. what the sandbox says it speaks). */
  protocol?: string;
  /** Called with every new view after a check. */
  onView: (view: PlugView) => void;
  /** Between checks (default 2 s). */
  everyMs?: number;
  clock?: () => number;
}

/**
 * The plug at `host:port` (told its protocol, it does not probe). KLAP/AES sessions are kept until
 * the device's TIMEOUT, but the connection is closed once no check or switch is using it.
 */
export function tplinkConnector(address: { host: string; port: number }, options: ConnectOptions): PlugConnector {
  const sessions = options.sessions ?? new SessionCache();
  let active = 0;
  return async (fn) => {
    active++;
    try {
      return await withPlug(address, { ...options, sessions }, fn);
    } finally {
      if (--active === 0) sessions.closeConnections();
    }
  };
}

/** How a connection speaks, as the page shows it: `SMART over KLAP v2`, `IOT over XOR`. */
export function protocolText(kind: Pick<ConnectionKind, 'transport' | 'family' | 'version'>): string {
  const version = kind.transport !== 'xor' && kind.version !== undefined ? ` v${kind.version}` : '';
  return `${kind.family.toUpperCase()} over ${kind.transport.toUpperCase()}${version}`;
}

/** The KLAP or AES login version the session used: known only once a request went through. */
function sessionVersion(device: PlugDevice): number | undefined {
  const t = device.transport;
  return t instanceof KlapTransport ? t.version : t instanceof AesTransport ? t.loginVersion : undefined;
}

/** A meter reading as the page shows it; undefined without a power figure (nothing worth a line). */
export function energyView(reading: MeterReading | undefined): EnergyView | undefined {
  if (reading?.powerW === undefined) return undefined;
  const { powerW, voltageV, currentA, totalKwh } = reading;
  return { powerW, voltageV, currentA, totalWh: totalKwh === undefined ? undefined : Math.round(totalKwh * 1000 * 1000) / 1000 };
}

export class PlugMonitor {
  private view: PlugView;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set after the first check that found no meter: not asked again. */
  private metered: boolean | undefined;
  /** The meter request that answered last (asked first next time). */
  private meterSource: MeterSource | undefined;
  /** What the last check that reached the plug spoke; until then, what we were told. */
  private protocol: string;
  private inFlight: Promise<PlugView> | undefined;
  private readonly options: PlugMonitorOptions;
  private readonly clock: () => number;

  constructor(options: PlugMonitorOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
    this.protocol = options.protocol ?? 'TP-Link (not reached yet)';
    this.view = { host: options.host, port: options.port, simulated: options.simulated, protocol: this.protocol, metered: false };
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
    await this.options.connect(({ device }) =>
      device.session(async (plug) => {
        const status = await plug.status();
        if (child === undefined) {
          await plug.setPower(status.relayState !== 1);
          return;
        }
        const outlet = status.children?.find((c) => c.index === child);
        if (!outlet) throw new DashboardRequestError(400, `${status.alias} at ${this.options.host}:${this.options.port} has no outlet ${child} (it has ${status.children?.length ?? 0})`);
        await plug.setPower(outlet.state !== 1, { child: outlet.id });
      }),
    );
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
    const base = { host: this.options.host, port: this.options.port, simulated: this.options.simulated };
    let next: PlugView;
    try {
      next = await this.options.connect(async ({ device, kind }) => {
        const read = await device.session((plug) => this.read(plug));
        this.protocol = protocolText({ ...kind, version: sessionVersion(device) ?? kind.version });
        return { ...base, protocol: this.protocol, ...read, checkedAt: new Date(this.clock()).toISOString() };
      });
    } catch (err) {
      // What was last known stays readable (model, alias); the state is no longer vouched for.
      const { relayState: _r, children: _c, energy: _e, ...known } = this.view;
      next = { ...known, ...base, protocol: this.protocol, online: false, error: errorMessage(err) };
    }
    if (this.closed) return this.view;
    this.view = next;
    this.options.onView(next);
    return next;
  }

  /** One look at the plug: status, then each meter (the outlets' for a strip). */
  private async read(plug: PlugDevice): Promise<Omit<PlugView, 'host' | 'port' | 'simulated' | 'protocol'>> {
    const status = await plug.status();
    const energyOf = async (childId?: string) => (this.metered === false ? undefined : this.energy(plug, childId));
    // One request at a time: a KLAP/AES session carries one at a time anyway.
    const children: OutletView[] | undefined = status.children && (await mapLimit(status.children, 1, async (c) => ({ id: c.id, index: c.index, alias: c.alias, state: c.state, energy: await energyOf(c.id) })));
    const energy = children ? undefined : await energyOf();
    this.metered = children ? children.some((c) => c.energy) : energy !== undefined;
    return { online: true, model: status.model, alias: status.alias, relayState: status.relayState, children, metered: this.metered, energy };
  }

  /** The meter as the hub's agent reads it; a failed meter read leaves the plug online, without energy. */
  private async energy(plug: PlugDevice, childId?: string): Promise<EnergyView | undefined> {
    try {
      const { source, reading } = await readMeter(plug, childId, this.meterSource);
      if (source !== 'none') this.meterSource = source;
      return energyView(reading);
    } catch {
      return undefined;
    }
  }
}
