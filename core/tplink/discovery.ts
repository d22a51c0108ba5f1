/**
 * Finding plugs on the LAN: older ones answer get_sysinfo, XOR-encrypted but not framed, on UDP 9999;
 * newer ones (KLAP, AES) answer a TDP probe on UDP 20002. Both are broadcast by default.
 */
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { encrypt, decrypt } from './codec';
import { getSysinfoRequest } from './commands';
import { parseAnySysinfo } from './iot-light';
import { DEFAULT_PORT, type PlugAddress } from './address';
import { toStatus, type PlugStatus } from './plug';
import { createHandshakeKeyPair } from './aes-crypto';
import { parseTdpAnswer, tdpProbe, TDP_PORT, type TdpDevice } from './tdp';
import { silentLogger, type Logger } from '../logger';
import type { ConnectionKind } from './connect';
import { describeTpap, unsupportedTransport } from './tpap';

export const BROADCAST_ADDRESS = '255.255.255.255';

export interface DiscoverOptions {
  /** Where to send the probe (default 255.255.255.255:9999, or :20002 for TDP). */
  target?: PlugAddress;
  /** How long to listen for answers (default 3000 ms). */
  timeoutMs?: number;
  /** Probes sent, spread over the first half of the wait (UDP may drop one; default 3). */
  attempts?: number;
  logger?: Logger;
}

/** A device that answered the TDP probe: where it is and what it speaks. */
export interface EncryptedPlugInfo extends TdpDevice {
  host: string;
}

/** How to reach a device discovery found: IOT over KLAP v2 when `lv` ≥ 2, else v1; SMART v2; AES its `lv`. */
export function kindFromDiscovery(info: EncryptedPlugInfo): ConnectionKind {
  if (info.transport === 'tpap') throw unsupportedTransport({ host: info.host, port: info.httpPort }, describeTpap(info.tpap ?? { preferred: true }));
  const lv = info.loginVersion;
  const version = info.transport === 'aes' ? lv : info.family === 'smart' || (lv !== undefined && lv >= 2) ? 2 : 1;
  return { transport: info.transport, family: info.family, port: info.httpPort, ...(version === undefined ? {} : { version }) };
}

/** Sends the XOR probe and resolves, after the wait, with every plug that answered (once each). */
export function discover(options: DiscoverOptions = {}): Promise<PlugStatus[]> {
  return udpProbe(options, DEFAULT_PORT, encrypt(JSON.stringify(getSysinfoRequest())), (msg, from) => {
    const endpoint = { host: from.address, port: from.port };
    return [`${from.address}:${from.port}`, toStatus(endpoint, parseAnySysinfo(endpoint, JSON.parse(decrypt(msg).toString('utf8'))))];
  });
}

/** Sends the TDP probe (UDP 20002) and resolves with every KLAP/AES device that answered (once each). */
export function discoverEncrypted(options: DiscoverOptions = {}): Promise<EncryptedPlugInfo[]> {
  const probe = tdpProbe(createHandshakeKeyPair().publicPem, randomBytes(4).readUInt32BE(0));
  return udpProbe(options, TDP_PORT, probe, (msg, from) => {
    const device = parseTdpAnswer(msg);
    if (device === undefined) throw new Error('not a TDP answer');
    return [`${from.address}:${device.httpPort}:${device.deviceId}`, { ...device, host: from.address }];
  });
}

/** Sends `probe` a few times and keeps what `read` makes of the answers (it throws on others) until the wait is over. */
function udpProbe<T>(
  options: DiscoverOptions,
  defaultPort: number,
  probe: Buffer,
  read: (msg: Buffer, from: dgram.RemoteInfo) => [key: string, value: T],
): Promise<T[]> {
  const log = options.logger ?? silentLogger;
  const found = new Map<string, T>();
  const host = options.target?.host ?? BROADCAST_ADDRESS;
  const port = options.target?.port ?? defaultPort;
  const timeoutMs = options.timeoutMs ?? 3000;
  const attempts = Math.max(1, options.attempts ?? 3);

  return new Promise<T[]>((resolve, reject) => {
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
    socket.on('message', (msg, from) => {
      try {
        found.set(...read(msg, from));
      } catch (err) {
        log.debug('ignoring an answer that is not from a TP-Link device', { from: `${from.address}:${from.port}`, error: err });
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
