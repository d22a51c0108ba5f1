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

const ATTEMPTS = 5;

export async function startSimulatedPlug(model: string, alias?: string): Promise<SimulatedPlug> {
  for (let attempt = 1; ; attempt++) {
    const device = new Device({ model, address: '127.0.0.1', port: 0, ...(alias ? { alias } : {}) });
    const errors: unknown[] = [];
    device.deviceNetworking.on('error', (err: unknown) => errors.push(err));
    try {
      await device.start();
    } catch (err) {
      // The simulator binds UDP on port 0 first, then TCP on the same number, which another
      // socket may already hold. Its own retry would re-listen later in the background: disarm it.
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= ATTEMPTS) throw err;
      const server = device.deviceNetworking.server;
      if (server) server.listen = (() => server) as unknown as typeof server.listen;
      await device.stop();
      continue;
    }
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
}
