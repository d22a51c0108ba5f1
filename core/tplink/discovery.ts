/**
 * Finding plugs on the LAN: the get_sysinfo request, encrypted but not framed, sent over UDP
 * port 9999 (to the broadcast address by default); every plug answers the same way.
 */
import dgram from 'node:dgram';
import { encrypt, decrypt } from './codec';
import { getSysinfoRequest, parseSysinfo } from './commands';
import { DEFAULT_PORT } from './address';
import { toStatus, type PlugStatus } from './plug';
import { silentLogger, type Logger } from '../logger';

export const BROADCAST_ADDRESS = '255.255.255.255';

export interface DiscoverOptions {
  /** Where to send the probe (default 255.255.255.255:9999). */
  target?: { host: string; port?: number };
  /** How long to listen for answers (default 3000 ms). */
  timeoutMs?: number;
  /** Probes sent, spread over the first half of the wait (UDP may drop one; default 3). */
  attempts?: number;
  logger?: Logger;
}

/** Sends the probe and resolves, after the wait, with every plug that answered (once each). */
export function discover(options: DiscoverOptions = {}): Promise<PlugStatus[]> {
  const host = options.target?.host ?? BROADCAST_ADDRESS;
  const port = options.target?.port ?? DEFAULT_PORT;
  const timeoutMs = options.timeoutMs ?? 3000;
  const attempts = Math.max(1, options.attempts ?? 3);
  const log = options.logger ?? silentLogger;
  const probe = encrypt(JSON.stringify(getSysinfoRequest()));
  const found = new Map<string, PlugStatus>();

  return new Promise<PlugStatus[]>((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    const timers: NodeJS.Timeout[] = [];
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      for (const t of timers) clearTimeout(t);
      try {
        socket.close();
      } catch {
        // Not running (never bound): nothing to close.
      }
      if (err) reject(err);
      else resolve([...found.values()]);
    };
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg, rinfo) => {
      const endpoint = { host: rinfo.address, port: rinfo.port };
      try {
        const status = toStatus(endpoint, parseSysinfo(endpoint, JSON.parse(decrypt(msg).toString('utf8'))));
        found.set(`${rinfo.address}:${rinfo.port}`, status);
      } catch (err) {
        // Something else answered on the port, or a device without relays (a bulb): not a plug.
        log.debug('ignoring a discovery answer', { from: `${rinfo.address}:${rinfo.port}`, error: err });
      }
    });
    // dgram throws some errors instead of emitting them (a bad port, say): they end the search too,
    // with the socket closed, rather than escaping from a timer as an uncaught exception.
    const guarded = (fn: () => void) => () => {
      try {
        fn();
      } catch (err) {
        finish(err as Error);
      }
    };
    const send = guarded(() => {
      if (finished) return;
      socket.send(probe, port, host, (err) => {
        if (err) finish(err);
      });
    });
    guarded(() =>
      socket.bind(
        { port: 0, address: host.startsWith('127.') ? '127.0.0.1' : undefined },
        guarded(() => {
          // Needed for 255.255.255.255 and for subnet broadcasts (x.y.z.255); harmless for unicast.
          if (!host.startsWith('127.')) socket.setBroadcast(true);
          for (let i = 0; i < attempts; i++) timers.push(setTimeout(send, (i * timeoutMs) / (2 * attempts)));
          timers.push(setTimeout(() => finish(), timeoutMs));
        }),
      ),
    )();
  });
}
