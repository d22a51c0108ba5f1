/**
 * One configured plug (or strip outlet) as the hub sees it over the LAN, whatever it speaks: XOR,
 * KLAP or AES, IOT or SMART, through the TP-Link client's `withPlug` (core/tplink/connect.ts:
 * detection, remembered per device; one connection per device at a time, its lock). Reads what
 * `reported` carries, energy from the plug's or the outlet's own meter included, and switches the relay.
 */
import { DEFAULT_PORT, type PlugAddress } from '../core/tplink/address';
import { selectChild } from '../core/tplink/commands';
import { detectionCache, detectionKey, withPlug, type ConnectOptions, type DetectionCache } from '../core/tplink/connect';
import { readMeter, readStripMeter, type MeterReading, type MeterResult, type MeterSource } from '../core/tplink/meter';
import type { PlugDevice, PlugStatus } from '../core/tplink/plug';
import { silentLogger, type Logger } from '../core/logger';
import type { PlugPower } from '../core/plug-relay/contract';
import type { PlugConfig } from '../core/plug-relay/config';

export interface PlugReading {
  power: PlugPower;
  model: string;
  alias: string;
  energy?: MeterReading;
}

/** How plugs are reached: timeouts, the TP-Link account, where detected kinds and KLAP/AES sessions are kept (see ConnectOptions). */
export type PlugClientOptions = Pick<ConnectOptions, 'connectTimeoutMs' | 'requestTimeoutMs' | 'socketFactory' | 'credentials' | 'detection' | 'sessions' | 'now' | 'logger'>;

export class RelayedPlug {
  private readonly address: PlugAddress;
  private readonly key: string;
  private readonly detection: DetectionCache;
  private readonly connect: ConnectOptions;
  private readonly log: Logger;
  /** The meter request that answered last time; `none` once the plug said it has no meter. */
  private meterSource: MeterSource | undefined;

  constructor(
    readonly config: PlugConfig,
    options: PlugClientOptions = {},
  ) {
    // Port 9999 is also what the configuration fills in when none is written: then each kind is
    // tried on its own port (XOR 9999, KLAP/AES 80); any other port is the only one tried.
    this.address = { host: config.host, ...(config.port === DEFAULT_PORT ? {} : { port: config.port }) };
    this.key = detectionKey(this.address);
    this.detection = options.detection ?? detectionCache;
    this.log = (options.logger ?? silentLogger).child({ plugId: config.id });
    this.connect = { ...options, detection: this.detection, protocol: config.protocol, family: config.family };
  }

  async read(): Promise<PlugReading> {
    return this.use(async (device) => {
      const status = await device.status({ energy: false }); // the meter below reads energy its own way
      const reading = this.readingOf(device, status);
      const energy = await this.meter(device, status);
      if (energy) reading.energy = energy;
      return reading;
    });
  }

  async switch(power: PlugPower): Promise<PlugReading> {
    return this.use(async (device) => {
      await device.setPower(power === 'on', this.config.child === undefined ? {} : { child: this.config.child });
      return this.readingOf(device, await device.status({ energy: false }));
    });
  }

  /**
   * One connection with the device reserved. When the remembered kind failed and detecting again
   * found nothing either (the plug is offline, not changed), the remembered kind is kept.
   */
  private async use<T>(fn: (device: PlugDevice) => Promise<T>): Promise<T> {
    const remembered = this.detection.get(this.key);
    try {
      return await withPlug(this.address, this.connect, ({ device }) => device.session(() => fn(device)));
    } catch (err) {
      if (remembered && this.detection.get(this.key) === undefined) this.detection.set(this.key, remembered);
      throw err;
    }
  }

  /** The plug's own meter, or its outlet's; a whole strip's is the sum of its outlets'. */
  private async meter(device: PlugDevice, status: PlugStatus): Promise<MeterReading | undefined> {
    if (this.meterSource === 'none') return undefined;
    const known = this.meterSource;
    try {
      let result: MeterResult;
      if (this.config.child !== undefined) result = await readMeter(device, selectChild(device.endpoint, status, this.config.child).id, known);
      else if (status.children !== undefined) result = await readStripMeter(device, status.children.map((c) => c.id), known);
      else result = await readMeter(device, undefined, known);
      this.meterSource = result.source;
      return result.reading;
    } catch (err) {
      // The relay state was read: a meter that did not answer this time leaves the last reading.
      this.log.debug('energy meter not read', { err });
      return undefined;
    }
  }

  private readingOf(device: PlugDevice, status: PlugStatus): PlugReading {
    if (this.config.child !== undefined) {
      const child = selectChild(device.endpoint, status, this.config.child);
      return { power: child.state === 1 ? 'on' : 'off', model: status.model, alias: child.alias };
    }
    const on = status.relayState !== undefined ? status.relayState === 1 : (status.children ?? []).some((c) => c.state === 1);
    return { power: on ? 'on' : 'off', model: status.model, alias: status.alias };
  }
}
