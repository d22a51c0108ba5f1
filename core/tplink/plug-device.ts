/** What the IOT Plug and the SMART plug share (pure: the transport is given). */
import { selectChild, type ChildSelector, type PlugChild, type PlugEnergy, type Sysinfo } from './commands';
import type { TplinkEndpoint } from './errors';
import type { Transport } from './transport';

/** What `status()` reports: the sysinfo and where the device is. */
export interface PlugStatus extends Sysinfo, TplinkEndpoint {
  /** Metered plugs and bulbs (HS110, KP115, P110, …); a strip's outlets carry their own. */
  energy?: PlugEnergy;
}

export interface StatusOptions {
  /** Read a metered plug's energy in the same batch (default true); false when only the relay matters. */
  energy?: boolean;
}

export interface SetPowerOptions {
  /** One outlet of a strip: full id, 2-digit suffix (`"00"`..), or index. Omitted: the whole device. */
  child?: ChildSelector;
}

/** What operations need of a plug, whichever protocol it speaks (IOT: Plug; SMART: SmartPlug). */
export abstract class PlugDevice {
  abstract readonly endpoint: TplinkEndpoint;
  abstract readonly transport: Transport;
  private lastSysinfo: Sysinfo | undefined;

  abstract status(options?: StatusOptions): Promise<PlugStatus>;
  abstract setPower(on: boolean, options?: SetPowerOptions): Promise<void>;

  /** The outlet a selector names, from the last status (queried if needed). */
  async resolveChild(selector: ChildSelector): Promise<PlugChild> {
    return selectChild(this.endpoint, await this.knownSysinfo(), selector);
  }

  /** The last status's sysinfo, queried when there is none yet. */
  protected async knownSysinfo(): Promise<Sysinfo> {
    return this.lastSysinfo ?? (await this.status({ energy: false }), this.lastSysinfo!);
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
  const { children, ...rest } = sysinfo;
  const status: PlugStatus = { host: endpoint.host, port: endpoint.port, ...rest };
  if (children) status.children = children.map((c) => ({ ...c }));
  return status;
}
