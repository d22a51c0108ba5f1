/**
 * A misbehaving TP-Link plug for tests: a real TCP server on 127.0.0.1:0 that speaks the XOR
 * protocol like an HS100 (using tplink-smarthome-crypto, independent of our codec) and injects
 * one fault. It counts connections, including the most open at once.
 */
import net from 'node:net';
import { decrypt, encryptWithHeader } from 'tplink-smarthome-crypto';

export type FaultMode =
  /** Behaves: answers get_sysinfo and set_relay_state. */
  | 'ok'
  /** Correct replies, written one byte per write. */
  | 'one-byte-writes'
  /** Declares a frame of `declaredLength` bytes (default 0xFFFFFFFF) and streams junk until the client leaves. */
  | 'oversize'
  /** Sends the first half of a correct reply, then closes. */
  | 'truncated'
  /** Answers with bytes that are no frame at all (an HTTP error page). */
  | 'garbage'
  /** A valid frame whose payload is not JSON. */
  | 'invalid-json'
  /** Accepts, reads, never answers. */
  | 'silent'
  /** Answers, then closes the connection (firmware that closes after each reply). */
  | 'close-after-reply'
  /** Answers the first request on a connection; on the next one, resets it without answering. */
  | 'reset-on-second-request';

export interface FaultPlugOptions {
  mode: FaultMode;
  /** For `oversize`: the declared length (default 0xFFFFFFFF). */
  declaredLength?: number;
  /** Delay before each reply (lets concurrency tests overlap). */
  replyDelayMs?: number;
  initialState?: 0 | 1;
}

export interface FaultPlug {
  host: string;
  port: number;
  address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Most connections open at the same time. */
  readonly maxConcurrent: number;
  /** Requests received (decrypted JSON). */
  readonly requests: unknown[];
  /** Bytes written by `oversize` before the client closed. */
  readonly junkBytesWritten: number;
  /** Resolves when the client has closed every connection. */
  allClosed(): Promise<void>;
  relayState: 0 | 1;
  close(): Promise<void>;
}

export async function startFaultPlug(options: FaultPlugOptions): Promise<FaultPlug> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let maxConcurrent = 0;
  let junkBytesWritten = 0;
  const requests: unknown[] = [];
  let relayState: 0 | 1 = options.initialState ?? 0;
  let closedWaiters: Array<() => void> = [];
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const answer = (request: unknown): string => {
    const req = request as { system?: { get_sysinfo?: unknown; set_relay_state?: { state?: number } } };
    if (req.system?.set_relay_state) {
      relayState = req.system.set_relay_state.state === 1 ? 1 : 0;
      return JSON.stringify({ system: { set_relay_state: { err_code: 0 } } });
    }
    if (req.system?.get_sysinfo !== undefined) {
      return JSON.stringify({
        system: {
          get_sysinfo: {
            alias: 'Fault plug',
            model: 'HS100(EU)',
            deviceId: 'FAULT0000000000000000000000000000000000',
            relay_state: relayState,
            // Padding makes the reply span several writes in one-byte mode, like a real multi-segment reply.
            sw_ver: '1.5.6 Build 191125 Rel.083657',
            hw_ver: '2.0',
            type: 'IOT.SMARTPLUGSWITCH',
            mac: '50:C7:BF:00:00:01',
            feature: 'TIM',
            led_off: 0,
            err_code: 0,
          },
        },
      });
    }
    return JSON.stringify({ system: { err_code: -1, err_msg: 'module not support' } });
  };

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    maxConcurrent = Math.max(maxConcurrent, sockets.size);
    let buffered = Buffer.alloc(0);
    let served = 0;
    socket.on('error', () => undefined);
    // The client's FIN ('end') already counts as closed: what matters is that the client let go.
    const gone = () => {
      if (!sockets.delete(socket)) return;
      if (sockets.size === 0) {
        const w = closedWaiters;
        closedWaiters = [];
        for (const fn of w) fn();
      }
    };
    socket.on('end', gone);
    socket.on('close', gone);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 4 && buffered.length >= 4 + buffered.readUInt32BE(0)) {
        const length = buffered.readUInt32BE(0);
        const request = JSON.parse(decrypt(buffered.subarray(4, 4 + length)).toString('utf8')) as unknown;
        buffered = buffered.subarray(4 + length);
        requests.push(request);
        served++;
        const nth = served;
        if (options.replyDelayMs) later(options.replyDelayMs, () => reply(socket, request, nth));
        else reply(socket, request, nth);
      }
    });
  });

  const reply = (socket: net.Socket, request: unknown, nth: number): void => {
    if (socket.destroyed) return;
    switch (options.mode) {
      case 'ok':
        socket.write(encryptWithHeader(answer(request)));
        return;
      case 'one-byte-writes': {
        const frame = encryptWithHeader(answer(request));
        let i = 0;
        const next = () => {
          if (socket.destroyed || i >= frame.length) return;
          socket.write(frame.subarray(i, i + 1));
          i++;
          setImmediate(next);
        };
        next();
        return;
      }
      case 'oversize': {
        const header = Buffer.alloc(4);
        header.writeUInt32BE(options.declaredLength ?? 0xffffffff);
        socket.write(header);
        const junk = Buffer.alloc(64 * 1024, 0x5a);
        const pump = () => {
          // Keep streaming until the client goes away (or 64 MiB, so a broken client cannot hang the test).
          if (socket.destroyed || junkBytesWritten > 64 * 1024 * 1024) return;
          junkBytesWritten += junk.length;
          if (socket.write(junk)) setImmediate(pump);
          else socket.once('drain', pump);
        };
        pump();
        return;
      }
      case 'truncated': {
        const frame = encryptWithHeader(answer(request));
        socket.end(frame.subarray(0, Math.floor(frame.length / 2)));
        return;
      }
      case 'garbage':
        socket.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return;
      case 'invalid-json':
        socket.write(encryptWithHeader('{"system":{"get_sysinfo":'));
        return;
      case 'silent':
        return;
      case 'close-after-reply':
        socket.end(encryptWithHeader(answer(request)));
        return;
      case 'reset-on-second-request':
        if (nth === 1) socket.write(encryptWithHeader(answer(request)));
        else socket.resetAndDestroy();
        return;
    }
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    get connections() {
      return connections;
    },
    get maxConcurrent() {
      return maxConcurrent;
    },
    get requests() {
      return requests;
    },
    get junkBytesWritten() {
      return junkBytesWritten;
    },
    get relayState() {
      return relayState;
    },
    set relayState(v) {
      relayState = v;
    },
    allClosed() {
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => closedWaiters.push(resolve));
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
