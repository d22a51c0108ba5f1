/**
 * The classic transport: autokey-XOR frames over TCP port 9999. One connection at a time per
 * device (the lease, see lease-holder.ts), reused for consecutive requests while the device keeps
 * it open, and re-opened once, transparently, when a reused connection turns out to be closed.
 * For long-lived callers sharing devices (agent, CLI); a button click uses click-xor-transport.ts.
 */
import { deviceLocks as defaultLocks, type DeviceLocks } from './device-lock';
import type { TplinkEndpoint } from './errors';
import { LeaseHolder } from './lease-holder';
import type { Transport } from './transport';
import { assertPositiveMs, XorExchange, type XorExchangeOptions, type XorExchangeStats } from './xor-exchange';

export type { SocketFactory } from './framed-connection';
export { mapSocketError } from './socket-errors';

export interface XorTcpTransportOptions extends XorExchangeOptions {
  /** An idle connection is closed after this long (default 10 s). */
  idleTimeoutMs?: number;
  /** The per-device lock registry (default: the process-wide one). */
  locks?: DeviceLocks;
}

export interface XorTcpTransportStats extends XorExchangeStats {
  /** Most bytes of an incomplete reply frame ever held at once. */
  peakBufferedBytes: number;
}

export class XorTcpTransport implements Transport {
  readonly endpoint: TplinkEndpoint;
  readonly stats: XorTcpTransportStats;
  private readonly xor: XorExchange;
  private readonly holder: LeaseHolder;

  constructor(endpoint: TplinkEndpoint, options: XorTcpTransportOptions = {}) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    const idleTimeoutMs = options.idleTimeoutMs ?? 10_000;
    this.xor = new XorExchange(this.endpoint, options, {
      trackClose: (closed) => this.holder.trackClose(closed),
      onIdleClose: () => this.holder.afterUse(),
      onBuffered: (bytes) => {
        if (bytes > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = bytes;
      },
    });
    assertPositiveMs({ idleTimeoutMs });
    this.stats = Object.assign(this.xor.stats, { peakBufferedBytes: 0 });
    this.holder = new LeaseHolder({
      locks: options.locks ?? defaultLocks,
      key: this.xor.key,
      endpoint: this.endpoint,
      requestTimeoutMs: this.xor.requestTimeoutMs,
      idleTimeoutMs,
      connection: {
        isOpen: () => this.xor.open,
        park: () => this.xor.park(),
        drop: () => this.xor.drop(true),
      },
    });
  }

  send(request: object): Promise<unknown> {
    return this.holder.inTurn((deadline) => this.xor.request(request, deadline));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    // The session waits for the device at most one request timeout.
    return this.holder.within(fn);
  }

  async close(): Promise<void> {
    // Callers waiting for the device, and a connect in progress, fail now rather than at their timeout.
    const closedError = this.holder.closedError();
    this.xor.abort(closedError);
    await this.holder.close(closedError);
  }
}
