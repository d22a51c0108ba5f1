/**
 * A TP-Link plug or strip, spoken to through a Transport (XOR over TCP by default). It knows
 * the protocol's commands, not how bytes reach the device.
 */
import { getSysinfoRequest, parseSetRelayStateReply, parseSysinfo, setRelayStateRequest, type ChildSelector } from './commands';
import { DEFAULT_PORT, type PlugAddress } from './address';
import type { Transport, TransportTimeouts } from './transport';
import { XorTcpTransport, type SocketFactory } from './xor-tcp-transport';
import type { TplinkEndpoint } from './errors';
import type { Logger } from '../logger';
import { PlugBase, type PlugStatus, type SetPowerOptions } from './plug-device';

export * from './plug-device';

export interface PlugOptions extends TransportTimeouts {
  /** Use this transport instead of XOR over TCP (the timeouts and socket options are then ignored). */
  transport?: Transport;
  /** How the default transport opens connections (tests count them with it). */
  socketFactory?: SocketFactory;
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  logger?: Logger;
}

export class Plug extends PlugBase {
  readonly endpoint: TplinkEndpoint;
  readonly transport: Transport;

  constructor(address: PlugAddress, options: PlugOptions = {}) {
    super();
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
    return this.statusFrom(parseSysinfo(this.endpoint, reply));
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

  private async childId(selector: ChildSelector): Promise<string> {
    // A full id needs no lookup: the device answers -14 "entry not exist" for an unknown one.
    if (typeof selector === 'string' && selector.length > 2 && !/^\d+$/.test(selector)) return selector;
    return (await this.resolveChild(selector)).id;
  }
}
