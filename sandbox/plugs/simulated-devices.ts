/**
 * The newer TP-Link devices the sandbox can simulate (Kasa IOT plugs on KLAP, Tapo SMART plugs and
 * strips on KLAP or AES), each on its own HTTP port on 127.0.0.1, each checking the credentials it
 * was given as the real ones check the TP-Link account's.
 */
import { startAesServer, type LoginLockout } from './aes-server';
import type { DeviceFaults, HttpDeviceServer } from './http-device-server';
import { SimulatedIotDevice } from './iot-device';
import { startKlapServer } from './klap-server';
import { SimulatedSmartDevice } from './smart-device';
import type { Credentials } from '../../core/tplink/klap-crypto';

export const SIMULATED_DEVICE_KINDS = ['hs100-klap1', 'hs103-klap2', 'kp115-klap2', 'p110-klap', 'p100-aes', 'p300-klap', 'p304m-klap'] as const;
export type SimulatedDeviceKind = (typeof SIMULATED_DEVICE_KINDS)[number];

/**
 * What each kind speaks (and what a client must be told when it cannot detect). `lv`: the login
 * version its discovery answer advertises, when it does (a KP115 on firmware 1.1.x wants KLAP v2
 * and does not say so: python-kasa then uses v1 and fails, #1555/#1604/#1740).
 */
export const KIND_PROTOCOLS: Record<SimulatedDeviceKind, { transport: 'klap' | 'aes'; family: 'iot' | 'smart'; version: 1 | 2; lv?: number }> = {
  'hs100-klap1': { transport: 'klap', family: 'iot', version: 1, lv: 1 },
  'hs103-klap2': { transport: 'klap', family: 'iot', version: 2, lv: 2 },
  'kp115-klap2': { transport: 'klap', family: 'iot', version: 2 },
  'p110-klap': { transport: 'klap', family: 'smart', version: 2, lv: 2 },
  'p100-aes': { transport: 'aes', family: 'smart', version: 2, lv: 2 },
  'p300-klap': { transport: 'klap', family: 'smart', version: 2, lv: 2 },
  'p304m-klap': { transport: 'klap', family: 'smart', version: 2, lv: 2 },
};

export interface SimulatedDeviceOptions {
  credentials: Credentials;
  host?: string;
  port?: number;
  faults?: DeviceFaults;
  /** AES devices: block logins after refused ones (Tapo's -40404). */
  lockout?: LoginLockout;
  /** AES login the device accepts (default 2). */
  loginVersion?: 1 | 2;
  /** TIMEOUT cookie in seconds. */
  timeoutSeconds?: number;
  /** Outlets per page of the strip's child list (default 10). */
  pageSize?: number;
  /** The device's state to serve (a device started again keeps its relays); default a new one of the kind. */
  model?: SimulatedSmartDevice | SimulatedIotDevice;
}

export interface SimulatedDevice {
  kind: SimulatedDeviceKind;
  host: string;
  port: number;
  server: HttpDeviceServer;
  model: SimulatedSmartDevice | SimulatedIotDevice;
  /** Relay states: one for a plug, one per outlet for a strip. */
  states(): boolean[];
  close(): Promise<void>;
}

function modelFor(kind: SimulatedDeviceKind, options: SimulatedDeviceOptions): SimulatedSmartDevice | SimulatedIotDevice {
  switch (kind) {
    case 'hs100-klap1':
      return new SimulatedIotDevice({ model: 'HS100(UK)', deviceId: '8006F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8', alias: 'Hall lamp' });
    case 'hs103-klap2':
      return new SimulatedIotDevice({ model: 'HS103(US)', deviceId: '8006F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E9', alias: 'Desk fan' });
    case 'kp115-klap2':
      return new SimulatedIotDevice({ model: 'KP115(US)', deviceId: '8006F1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7EA', alias: 'Dryer', meter: true, loadW: 850 });
    case 'p110-klap':
      return new SimulatedSmartDevice({ model: 'P110', deviceId: '802234B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F7', nickname: 'Kettle', energy: true });
    case 'p100-aes':
      return new SimulatedSmartDevice({ model: 'P100', deviceId: '802234B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6F8', nickname: 'Heater' });
    case 'p300-klap':
      return new SimulatedSmartDevice({
        model: 'P300',
        deviceId: '802234B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E6',
        nickname: 'Power strip',
        outlets: [{ nickname: 'Monitor' }, { nickname: 'Speakers' }, { nickname: 'Charger' }],
        pageSize: options.pageSize,
      });
    case 'p304m-klap':
      return new SimulatedSmartDevice({
        model: 'P304M',
        deviceId: '802234B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5E7',
        nickname: 'Desk strip',
        outlets: [{ nickname: 'Lamp', loadW: 9 }, { nickname: 'Monitor', loadW: 27 }, { nickname: 'Printer', loadW: 4 }, { nickname: 'Radio', loadW: 2 }],
        outletEnergy: true,
        pageSize: options.pageSize,
      });
  }
}

export async function startSimulatedDevice(kind: SimulatedDeviceKind, options: SimulatedDeviceOptions): Promise<SimulatedDevice> {
  const model = options.model ?? modelFor(kind, options);
  const handle = (request: unknown): unknown => model.handle(request);
  const spec = KIND_PROTOCOLS[kind];
  const common = { credentials: options.credentials, handle, host: options.host, port: options.port, faults: options.faults, timeoutSeconds: options.timeoutSeconds };
  const server =
    spec.transport === 'aes'
      ? await startAesServer({ ...common, loginVersion: options.loginVersion ?? 2, lockout: options.lockout })
      : await startKlapServer({ ...common, version: spec.version });
  return {
    kind,
    host: server.host,
    port: server.port,
    server,
    model,
    states: () => (model instanceof SimulatedSmartDevice && model.outlets ? model.outlets.map((o) => o.on) : [model.on]),
    close: () => server.close(),
  };
}
