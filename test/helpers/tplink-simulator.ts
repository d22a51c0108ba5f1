/**
 * tplink-smarthome-simulator devices on 127.0.0.1:0 for tests and benchmarks, with their
 * networking errors collected (a test asserts there were none) and a stop for teardown.
 */
import { Device } from 'tplink-smarthome-simulator';

export interface SimulatedPlug {
  device: Device;
  host: string;
  port: number;
  address: string;
  errors: unknown[];
  stop(): Promise<void>;
}

export async function startSimulatedPlug(model: string, alias?: string): Promise<SimulatedPlug> {
  const device = new Device({ model, address: '127.0.0.1', port: 0, ...(alias ? { alias } : {}) });
  const errors: unknown[] = [];
  device.deviceNetworking.on('error', (err: unknown) => errors.push(err));
  await device.start();
  return {
    device,
    host: '127.0.0.1',
    port: device.port,
    address: `127.0.0.1:${device.port}`,
    errors,
    stop: async () => {
      await device.stop();
    },
  };
}
