/** A Tapo plug or strip (P100, P110, P300, …) on the SMART protocol over a KLAP or AES transport. */
import { text, type PlugEnergy, type Sysinfo } from './commands';
import { TplinkProtocolError, type TplinkEndpoint } from './errors';
import { PlugDevice, type PlugStatus, type SetPowerOptions, type StatusOptions } from './plug-device';
import { SmartProtocol, type SmartCall } from './smart-protocol';
import type { Transport } from './transport';

/** Tapo names are base64 of UTF-8; older firmware sends them plain. */
function nickname(value: unknown): string {
  const raw = text(value);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(raw) || raw.length % 4 !== 0) return raw;
  const decoded = Buffer.from(raw, 'base64').toString('utf8');
  return decoded.includes('\uFFFD') ? raw : decoded;
}

const DEVICE_INFO: SmartCall = { method: 'get_device_info' };
const ENERGY_USAGE: SmartCall = { method: 'get_energy_usage' };

export class SmartPlug extends PlugDevice {
  readonly endpoint: TplinkEndpoint;
  readonly protocol: SmartProtocol;

  constructor(readonly transport: Transport) {
    super();
    this.endpoint = transport.endpoint;
    this.protocol = new SmartProtocol(transport);
  }

  /** Device info, outlets (strips) and energy (unless `energy: false`), batched where the device allows. */
  async status(options: StatusOptions = {}): Promise<PlugStatus> {
    const calls = options.energy === false ? [DEVICE_INFO] : [DEVICE_INFO, ENERGY_USAGE];
    const [info, energy] = await this.protocol.callAll(calls);
    if (!info!.ok) throw info!.error;
    const device = info!.result;
    const sysinfo: Sysinfo = { alias: nickname(device.nickname), model: text(device.model), deviceId: text(device.device_id) };
    if (typeof device.device_on === 'boolean') {
      sysinfo.relayState = device.device_on ? 1 : 0;
    } else {
      const children = await this.protocol.list('get_child_device_list', 'child_device_list');
      sysinfo.children = children.map((c, index) => ({
        id: text(c.device_id),
        index,
        alias: nickname(c.nickname),
        state: c.device_on === true ? 1 : 0,
      }));
      if (sysinfo.children.length === 0) {
        throw new TplinkProtocolError(this.endpoint, 'unexpected-reply', 'get_device_info has no device_on and the device lists no outlets');
      }
    }
    const status = this.statusFrom(sysinfo);
    if (energy?.ok) status.energy = toEnergy(energy.result);
    return status;
  }

  /** Switches the device, or one outlet; strips (P300, P304M, KS240, …) have no relay: outlet by outlet. */
  async setPower(on: boolean, options: SetPowerOptions = {}): Promise<void> {
    if (options.child === undefined) {
      const { children } = await this.knownSysinfo();
      if (children === undefined) {
        await this.protocol.call('set_device_info', { device_on: on });
        return;
      }
      for (const child of children) await this.protocol.callChild(child.id, 'set_device_info', { device_on: on });
      return;
    }
    const child = await this.resolveChild(options.child);
    await this.protocol.callChild(child.id, 'set_device_info', { device_on: on });
  }
}

function toEnergy(result: Record<string, unknown>): PlugEnergy {
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  // current_power is in milliwatts in get_energy_usage.
  return { powerW: num(result.current_power) / 1000, todayWh: num(result.today_energy) };
}
