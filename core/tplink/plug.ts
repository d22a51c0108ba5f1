/**
 * A TP-Link plug or strip on the IOT protocol (iot-plug.ts), by default over XOR (TCP 9999), the
 * device shared with the process's other transports through the process-wide mutex.
 */
import { DEFAULT_PORT, type PlugAddress } from './address';
import { deviceMutex } from './device-mutex';
import { IotPlug } from './iot-plug';
import type { Transport } from './transport';
import { XorTransport, type XorTransportOptions } from './xor-transport';

export * from './plug-device';
export { IotPlug } from './iot-plug';

export interface PlugOptions extends Omit<XorTransportOptions, 'mutex' | 'idleTimeoutMs'> {
  /** Use this transport instead of XOR over TCP (the timeouts and socket options are then ignored). */
  transport?: Transport;
}

export class Plug extends IotPlug {
  constructor(address: PlugAddress, options: PlugOptions = {}) {
    const endpoint = { host: address.host, port: address.port ?? DEFAULT_PORT };
    const { transport, ...xor } = options;
    super(endpoint, transport ?? new XorTransport(endpoint, { ...xor, mutex: deviceMutex }));
  }
}
