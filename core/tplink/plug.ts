/**
 * A TP-Link plug or strip on the IOT protocol (iot-plug.ts), by default over the shared XOR
 * transport (TCP 9999, one connection per device leased across callers: xor-tcp-transport.ts).
 */
import { DEFAULT_PORT, type PlugAddress } from './address';
import { IotPlug } from './iot-plug';
import type { Transport, TransportTimeouts } from './transport';
import { XorTcpTransport, type SocketFactory } from './xor-tcp-transport';
import type { Logger } from '../logger';

export * from './plug-device';
export { IotPlug } from './iot-plug';

export interface PlugOptions extends TransportTimeouts {
  /** Use this transport instead of XOR over TCP (the timeouts and socket options are then ignored). */
  transport?: Transport;
  /** How the default transport opens connections (tests count them with it). */
  socketFactory?: SocketFactory;
  /** Largest reply frame accepted (default 1 MiB). */
  maxFrameLength?: number;
  logger?: Logger;
}

export class Plug extends IotPlug {
  constructor(address: PlugAddress, options: PlugOptions = {}) {
    const endpoint = { host: address.host, port: address.port ?? DEFAULT_PORT };
    super(
      endpoint,
      options.transport ??
        new XorTcpTransport(endpoint, {
          connectTimeoutMs: options.connectTimeoutMs,
          requestTimeoutMs: options.requestTimeoutMs,
          socketFactory: options.socketFactory,
          maxFrameLength: options.maxFrameLength,
          logger: options.logger,
        }),
    );
  }
}
