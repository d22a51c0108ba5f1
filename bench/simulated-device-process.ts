/**
 * A simulated device in a process of its own, so the client measured does not share its thread.
 * IPC: {port} when listening; 'stats' → the server's counters and `cpuMs` so far; 'close' ends it.
 */
import { startSimulatedDevice, type SimulatedDeviceKind } from '../sandbox/plugs/simulated-devices';

const [kind, username, password] = process.argv.slice(2) as [SimulatedDeviceKind, string, string];
const device = await startSimulatedDevice(kind, { credentials: { username, password } });
process.on('message', (message) => {
  if (message === 'stats') {
    const cpu = process.cpuUsage();
    process.send!({ stats: { ...device.server.stats }, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  if (message === 'close') void device.close().then(() => process.disconnect());
});
process.send!({ port: device.port });
