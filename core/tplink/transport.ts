/** How the protocol layer (IotPlug, SmartPlug) reaches a device: JSON requests, JSON replies. */
import type { TplinkEndpoint } from './errors';

export interface Transport {
  readonly endpoint: TplinkEndpoint;
  /** Sends one request and resolves with the parsed JSON reply. Throws a TplinkError. */
  send(request: object): Promise<unknown>;
  /**
   * Runs `fn` with the device reserved for this transport: requests made inside share one
   * connection (where the device keeps it open) and no other transport talks to the device meanwhile.
   */
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
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/** Throws a RangeError naming the first option that is not a positive number of milliseconds. */
export function assertPositiveMs(values: Record<string, number>): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}
