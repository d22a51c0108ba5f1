/** How the protocol layer (IotPlug, SmartPlug) reaches a device: JSON requests, JSON replies. */
import type { DeviceHolder, DeviceMutex, DeviceUser } from './device-mutex';
import { formatEndpoint, TplinkTimeoutError, transportClosed, type TplinkEndpoint } from './errors';
import { SerialQueue } from '../util/serial-queue';

export interface Transport {
  readonly endpoint: TplinkEndpoint;
  /** Sends one request and resolves with the parsed JSON reply. Throws a TplinkError. */
  send(request: object): Promise<unknown>;
  /** Runs `fn` with the device reserved for this transport: one connection, no other transport meanwhile. */
  hold<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the connection and frees the device. Further sends fail. */
  close(): Promise<void>;
}

export interface TransportTimeouts {
  /** Time allowed to open the connection (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Time allowed for a whole request, the wait for the device and the connect included (default 5000 ms). */
  requestTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/** Throws a RangeError naming the first option that is not a positive number of milliseconds. */
export function assertPositiveMs(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}

/** Requests in turn, each within one request timeout from its turn, holding the device when a mutex shares it. */
export abstract class QueuedTransport implements Transport, DeviceUser {
  readonly endpoint: TplinkEndpoint;
  readonly requestTimeoutMs: number;
  protected readonly holder: DeviceHolder | undefined;
  protected closed = false;
  private readonly queue = new SerialQueue();

  protected constructor(endpoint: TplinkEndpoint, requestTimeoutMs: number | undefined, mutex: DeviceMutex | undefined) {
    this.endpoint = { host: endpoint.host, port: endpoint.port };
    this.requestTimeoutMs = requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.holder = mutex?.holder(formatEndpoint(this.endpoint), this, () => new TplinkTimeoutError(this.endpoint, 'queue', this.requestTimeoutMs));
  }

  /** Sends after the requests before it; its budget starts when its turn comes. */
  send(request: object): Promise<unknown> {
    return this.queue.run(() => this.reserved((deadline) => this.request(request, deadline)));
  }

  hold<T>(fn: () => Promise<T>): Promise<T> {
    return this.reserved(fn);
  }

  abstract close(): Promise<void>;
  abstract handOver(): Promise<void>;
  /** One request, the device held, answered by `deadline`. */
  protected abstract request(request: object, deadline: number): Promise<unknown>;

  private reserved<T>(fn: (deadline: number) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(transportClosed(this.endpoint));
    const deadline = Date.now() + this.requestTimeoutMs;
    const run = () => (this.closed ? Promise.reject(transportClosed(this.endpoint)) : fn(deadline));
    return this.holder ? this.holder.use(deadline, run) : run();
  }
}
