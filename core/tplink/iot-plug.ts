/** A TP-Link plug or strip speaking the IOT protocol (get_sysinfo, set_relay_state) through a given Transport. */
import { getSysinfoRequest, parseSetRelayStateReply, parseSysinfo, setRelayStateRequest, type ChildSelector } from './commands';
import type { TplinkEndpoint } from './errors';
import type { Transport } from './transport';
import { PlugDevice, type PlugStatus, type SetPowerOptions, type StatusOptions } from './plug-device';

export class IotPlug extends PlugDevice {
  constructor(
    readonly endpoint: TplinkEndpoint,
    readonly transport: Transport,
  ) {
    super();
  }

  /** Queries `get_sysinfo`. */
  async status(_options?: StatusOptions): Promise<PlugStatus> {
    const reply = await this.transport.send(getSysinfoRequest());
    return this.statusFrom(parseSysinfo(this.endpoint, reply));
  }

  /** Switches the relay, or only outlet `child` (an index or suffix resolved against the last status). */
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
