/**
 * A TP-Link plug, strip, bulb or light strip on the IOT protocol with its meter, by default over XOR
 * (TCP 9999) with the device shared through the process-wide mutex.
 */
import { DEFAULT_PORT, type PlugAddress } from './address';
import { getSysinfoRequest } from './commands';
import { deviceMutex } from './device-mutex';
import { parseAnySysinfo, parseSetLightReply, setLightRequest } from './iot-light';
import { iotMeterModule, iotRealtimeRequest, parseIotRealtime } from './iot-meter';
import { IotPlug } from './iot-plug';
import type { PlugStatus, SetPowerOptions, StatusOptions } from './plug-device';
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

  /** `get_sysinfo` and, unless `energy: false`, the meter: in the same request, or per outlet of a strip. */
  override async status(options: StatusOptions = {}): Promise<PlugStatus> {
    const withMeter = options.energy !== false;
    const reply = await this.transport.send(withMeter ? STATUS_WITH_METER : getSysinfoRequest());
    const status = this.statusFrom(parseAnySysinfo(this.endpoint, reply));
    if (!withMeter) return status;
    if (!status.children) {
      const energy = parseIotRealtime(reply, iotMeterModule(status.light));
      if (energy) status.energy = energy;
      return status;
    }
    for (const child of status.children) {
      const energy = parseIotRealtime(await this.transport.send(iotRealtimeRequest(child.id)));
      // Outlets of one strip are alike: the first without a meter means none has one (KP303).
      if (!energy) break;
      child.energy = energy;
    }
    return status;
  }

  /** As IotPlug's; a bulb or light strip (known from the last status, queried if none) by its light. */
  override async setPower(on: boolean, options: SetPowerOptions = {}): Promise<void> {
    const light = options.child === undefined ? (await this.knownSysinfo()).light : undefined;
    if (light === undefined) return super.setPower(on, options);
    parseSetLightReply(this.endpoint, await this.transport.send(setLightRequest(on, light)), light);
  }
}

/** Plugs answer `emeter`, bulbs `smartlife.iot.common.emeter`: a status asks both with its sysinfo. */
const STATUS_WITH_METER = { ...getSysinfoRequest(), ...iotRealtimeRequest(), ...iotRealtimeRequest(undefined, iotMeterModule('bulb')) };
