/**
 * A KLAP plug reached through a port that stays silent to anything but an HTTP request (a port
 * forward, a server waiting for a request line): the XOR probe times out, and one HTTP attempt on
 * the same port finds the plug instead of ending in the timeout.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { plugAction } from '../../../core/tplink/operations';
import { DetectionCache } from '../../../core/tplink/connect';
import { SessionCache } from '../../../core/tplink/session-transport';
import { startSimulatedDevice, type SimulatedDevice } from '../../../sandbox/plugs/simulated-devices';

const credentials = { username: 'owner@example.com', password: 'correct horse battery' };
let device: SimulatedDevice | undefined;
let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await device?.close();
  server = undefined;
  device = undefined;
});

/** Forwards connections that start like an HTTP request to `port`; says nothing to anything else. */
async function silentUnlessHttp(port: number): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (first) => {
      if (!/^[A-Z]+ \//.test(first.toString('latin1'))) return;
      const upstream = createConnection({ host: '127.0.0.1', port }, () => {
        upstream.write(first);
        socket.pipe(upstream).pipe(socket);
      });
      sockets.add(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

it('detects a KLAP plug behind a port that is silent to the XOR probe', async () => {
  device = await startSimulatedDevice('p110-klap', { credentials });
  const port = await silentUnlessHttp(device.port);
  const options = { credentials, detection: new DetectionCache(), sessions: new SessionCache(), requestTimeoutMs: 500 };
  const r = await plugAction({ host: '127.0.0.1', port }, 'on', options);
  expect(r.connection).toMatchObject({ transport: 'klap', family: 'smart', port });
  expect(device.states()).toEqual([true]);
});
