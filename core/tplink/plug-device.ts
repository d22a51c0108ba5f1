/**
 * What operations need of a plug whichever protocol it speaks, and what the IOT Plug and the
 * SMART plug share (pure: the transport is given).
 */
import { selectChild, type ChildSelector, type PlugChild, type RelayState, type Sysinfo } from './commands';
import type { TplinkEndpoint } from './errors';
import type { Transport } from './transport';

/** What `status()` reports. Plugs have `relayState`; strips have `children`. */
export interface PlugStatus {
  host: string;
  port: number;
  alias: string;
  model: string;
  deviceId: string;
  relayState?: RelayState;
  children?: PlugChild[];
  /** Metered plugs (P110, …): present power and today's energy. */
  energy?: PlugEnergy;
}

export interface PlugEnergy {
  powerW: number;
  todayWh: number;
}

/** What operations need of a plug, whichever protocol it speaks (IOT: Plug; SMART: SmartPlug). */
export interface PlugDevice {
  readonly endpoint: TplinkEndpoint;
  readonly transport: Transport;
  status(options?: StatusOptions): Promise<PlugStatus>;
  setPower(on: boolean, options?: SetPowerOptions): Promise<void>;
  resolveChild(selector: ChildSelector): Promise<PlugChild>;
  session<T>(fn: (plug: this) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StatusOptions {
  /** Read a metered plug's energy in the same batch (default true); false when only the relay matters. */
  energy?: boolean;
}

export interface SetPowerOptions {
  /** One outlet of a strip: full id, 2-digit suffix (`"00"`..), or index. Omitted: the whole device. */
  child?: ChildSelector;
}

/**
 * What IOT and SMART plugs share: a status shaped from the device's sysinfo, outlets resolved
 * against the last one, sessions and close through the transport.
 */
export abstract class PlugBase implements PlugDevice {
  abstract readonly endpoint: TplinkEndpoint;
  abstract readonly transport: Transport;
  private lastSysinfo: Sysinfo | undefined;

  abstract status(options?: StatusOptions): Promise<PlugStatus>;
  abstract setPower(on: boolean, options?: SetPowerOptions): Promise<void>;

  /** The outlet a selector names, from the last status (queried if needed). */
  async resolveChild(selector: ChildSelector): Promise<PlugChild> {
    const sysinfo = this.lastSysinfo ?? (await this.status({ energy: false }), this.lastSysinfo!);
    return selectChild(this.endpoint, sysinfo, selector);
  }

  /** Runs several calls with the device reserved: one connection, no other client in between. */
  session<T>(fn: (plug: this) => Promise<T>): Promise<T> {
    return this.transport.hold(() => fn(this));
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  /** Remembers `sysinfo` for resolving outlets and shapes the status from it. */
  protected statusFrom(sysinfo: Sysinfo): PlugStatus {
    this.lastSysinfo = sysinfo;
    return toStatus(this.endpoint, sysinfo);
  }
}

export function toStatus(endpoint: TplinkEndpoint, sysinfo: Sysinfo): PlugStatus {
  const status: PlugStatus = {
    host: endpoint.host,
    port: endpoint.port,
    alias: sysinfo.alias,
    model: sysinfo.model,
    deviceId: sysinfo.deviceId,
  };
  if (sysinfo.relayState !== undefined) status.relayState = sysinfo.relayState;
  if (sysinfo.children !== undefined) status.children = sysinfo.children.map((c) => ({ ...c }));
  return status;
}
