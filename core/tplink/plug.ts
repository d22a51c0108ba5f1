/**
 * A TP-Link plug or strip, spoken to through a Transport (XOR over TCP by default). It knows
 * the protocol's commands, not how bytes reach the device.
 */
import {
  getSysinfoRequest,
  parseSetRelayStateReply,
  parseSysinfo,
  selectChild,
  setRelayStateRequest,
  type ChildSelector,
  type PlugChild,
  type RelayState,
  type Sysinfo,
} from './commands';
import { DEFAULT_PORT, type PlugAddress } from './address';
import type { Transport, TransportTimeouts } from './transport';
import { XorTcpTransport, type SocketFactory } from './xor-tcp-transport';
import type { TplinkEndpoint } from './errors';
import type { Logger } from '../logger';

export interface PlugOptions extends TransportTimeouts {
  /** Use this transport instead of XOR over TCP (the timeouts and socket options are then ignored). */
  transport?: Transport;
  /** How the default transport opens connections (tests count them with it). */
  socketFactory?: SocketFactory;
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  logger?: Logger;
}

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
  status(): Promise<PlugStatus>;
  setPower(on: boolean, options?: SetPowerOptions): Promise<void>;
  resolveChild(selector: ChildSelector): Promise<PlugChild>;
  session<T>(fn: (plug: this) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface SetPowerOptions {
  /** One outlet of a strip: full id, 2-digit suffix (`"00"`..), or index. Omitted: the whole device. */
  child?: ChildSelector;
}

export class Plug implements PlugDevice {
  readonly endpoint: TplinkEndpoint;
  readonly transport: Transport;
  private lastSysinfo: Sysinfo | undefined;

  constructor(address: PlugAddress, options: PlugOptions = {}) {
    this.endpoint = { host: address.host, port: address.port ?? DEFAULT_PORT };
    this.transport =
      options.transport ??
      new XorTcpTransport(this.endpoint, {
        connectTimeoutMs: options.connectTimeoutMs,
        requestTimeoutMs: options.requestTimeoutMs,
        socketFactory: options.socketFactory,
        maxFrameLength: options.maxFrameLength,
        logger: options.logger,
      });
  }

  /** Queries `get_sysinfo`. */
  async status(): Promise<PlugStatus> {
    const reply = await this.transport.send(getSysinfoRequest());
    const sysinfo = parseSysinfo(this.endpoint, reply);
    this.lastSysinfo = sysinfo;
    return toStatus(this.endpoint, sysinfo);
  }

  /**
   * Switches the relay. With `child`, only that outlet; a full child id is sent as is, while an
   * index or suffix is resolved against the last status (queried first if there is none).
   */
  async setPower(on: boolean, options: SetPowerOptions = {}): Promise<void> {
    const childIds = options.child === undefined ? undefined : [await this.childId(options.child)];
    const reply = await this.transport.send(setRelayStateRequest(on, childIds));
    parseSetRelayStateReply(this.endpoint, reply);
  }

  /** The outlet a selector names, from the last status (queried if needed). */
  async resolveChild(selector: ChildSelector): Promise<PlugChild> {
    const sysinfo = this.lastSysinfo ?? (await this.status(), this.lastSysinfo!);
    return selectChild(this.endpoint, sysinfo, selector);
  }

  /** Runs several calls with the device reserved: one connection, no other client in between. */
  session<T>(fn: (plug: this) => Promise<T>): Promise<T> {
    return this.transport.hold(() => fn(this));
  }

  close(): Promise<void> {
    return this.transport.close();
  }

  private async childId(selector: ChildSelector): Promise<string> {
    // A full id needs no lookup: the device answers -14 "entry not exist" for an unknown one.
    if (typeof selector === 'string' && selector.length > 2 && !/^\d+$/.test(selector)) return selector;
    return (await this.resolveChild(selector)).id;
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
