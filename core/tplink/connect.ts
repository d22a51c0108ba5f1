/**
 * Reaching a plug whatever it speaks: XOR on TCP 9999 (IOT), KLAP v1/v2 (IOT or SMART) or AES (SMART)
 * on HTTP 80. Unless told, the kind is detected (XOR, KLAP, AES) and remembered per device; a remembered
 * kind that stops working (a firmware update) is detected anew.
 */
import { DEFAULT_PORT, type PlugAddress, type ProtocolFamily, type TransportKind } from './address';
import { AesTransport } from './aes-transport';
import { formatEndpoint, notThisKind, TplinkProtocolError, TplinkTimeoutError, type TplinkEndpoint, type TplinkError } from './errors';
import { KlapTransport } from './klap-transport';
import type { Credentials } from './klap-crypto';
import { Plug, type PlugDevice, type PlugOptions } from './plug';
import type { SessionCache } from './session-transport';
import { SmartPlug } from './smart-plug';
import { getSysinfoRequest } from './commands';
import { isObject } from '../util/guards';

/** How a device is spoken to; `version` is KLAP's (1, 2) or AES's login version. */
export interface ConnectionKind {
  transport: TransportKind;
  family: ProtocolFamily;
  port: number;
  version?: number;
}

/** HTTP port of KLAP and AES devices. */
const HTTP_PORT = 80;

/** Remembered kinds by device (`host` or `host:port` as given); process-wide by default. */
export class DetectionCache {
  private readonly kinds = new Map<string, ConnectionKind>();
  get(key: string): ConnectionKind | undefined {
    return this.kinds.get(key);
  }
  set(key: string, kind: ConnectionKind): void {
    this.kinds.set(key, { ...kind });
  }
  delete(key: string): void {
    this.kinds.delete(key);
  }
  /** For persisting (the agent's state dir). */
  entries(): [string, ConnectionKind][] {
    return [...this.kinds.entries()].map(([k, v]) => [k, { ...v }]);
  }
}

export const detectionCache = new DetectionCache();

export interface ConnectOptions extends PlugOptions {
  /** Skip detection: this transport. */
  protocol?: TransportKind;
  /** Skip family detection (KLAP carries both). */
  family?: ProtocolFamily;
  /** With `protocol`: the KLAP or AES login version to try first (discovery's); the other is tried once. */
  version?: number;
  /** The TP-Link account for KLAP and AES (defaults tried after it), or how to get it when one is opened. */
  credentials?: Credentials | (() => Promise<Credentials | undefined>);
  detection?: DetectionCache;
  sessions?: SessionCache;
  /** KLAP/AES clock, ms since the epoch (session expiry, login blocks); default Date.now. */
  now?: () => number;
}

export interface ConnectedPlug {
  device: PlugDevice;
  kind: ConnectionKind;
  /** Not proven yet (remembered, or XOR tried first): a first use failing as not this kind detects again. */
  provisional?: 'remembered' | 'first-guess';
}

/** The key a device's kind is remembered under: `host` (default ports) or `host:port`. */
export function detectionKey(address: PlugAddress): string {
  return address.port === undefined ? address.host : formatEndpoint({ host: address.host, port: address.port });
}

/** The told, else remembered, else XOR kind (free: its first request is the caller's own); caller closes. */
export async function connectPlug(address: PlugAddress, options: ConnectOptions = {}): Promise<ConnectedPlug> {
  if (options.protocol !== undefined) {
    const port = address.port ?? (options.protocol === 'xor' ? DEFAULT_PORT : HTTP_PORT);
    return open({ host: address.host, port }, options.protocol, options.family, options, options.version);
  }
  const known = (options.detection ?? detectionCache).get(detectionKey(address));
  if (known) {
    const connected = await open({ host: address.host, port: known.port }, known.transport, known.family, options, known.version);
    return { ...connected, provisional: 'remembered' };
  }
  // Port 80 is HTTP (KLAP, AES), never XOR.
  if (address.port === HTTP_PORT) return detectHttp(address, options, []);
  const connected = await open({ host: address.host, port: address.port ?? DEFAULT_PORT }, 'xor', 'iot', options);
  return { ...connected, provisional: 'first-guess' };
}

/** Runs `fn` with a connected plug, detecting the kind when the first guess turns out wrong. */
export async function withPlug<T>(address: PlugAddress, options: ConnectOptions, fn: (connected: ConnectedPlug) => Promise<T>): Promise<T> {
  const { result, connected } = await openPlug(address, options, fn);
  await connected.device.close();
  return result;
}

/**
 * As {@link withPlug}, the device left open for the caller. `xorFailure`: the caller just tried XOR
 * and got this sign of another kind, so detection starts at KLAP (unless a kind is remembered).
 */
export async function openPlug<T>(
  address: PlugAddress,
  options: ConnectOptions,
  fn: (connected: ConnectedPlug) => Promise<T>,
  xorFailure?: unknown,
): Promise<{ result: T; connected: ConnectedPlug }> {
  const cache = options.detection ?? detectionCache;
  const key = detectionKey(address);
  const failures: unknown[] = xorFailure === undefined ? [] : [xorFailure];
  let connected =
    xorFailure !== undefined && options.protocol === undefined && cache.get(key) === undefined
      ? await detectHttp(address, options, failures)
      : await connectPlug(address, options);
  for (;;) {
    try {
      const result = await fn(connected);
      if (options.protocol === undefined) cache.set(key, connected.kind);
      return { result, connected };
    } catch (err) {
      await connected.device.close();
      if (connected.provisional === undefined || !(notThisKind(err) || silentToXor(connected, err))) throw err;
      failures.push(err);
      cache.delete(key);
    }
    connected =
      connected.provisional === 'remembered' ? await connectPlug(address, options) : await detectHttp(address, options, failures);
  }
}

/** Silent to the first XOR request (an HTTP server awaiting a request line): worth one HTTP attempt. */
function silentToXor(connected: ConnectedPlug, err: unknown): boolean {
  return connected.provisional === 'first-guess' && err instanceof TplinkTimeoutError && err.phase === 'request';
}

/** KLAP, then AES, on the HTTP port (or the one given); each proven by a first request. */
async function detectHttp(address: PlugAddress, options: ConnectOptions, failures: unknown[]): Promise<ConnectedPlug> {
  const port = address.port ?? HTTP_PORT;
  for (const kind of ['klap', 'aes'] as const) {
    let connected: ConnectedPlug | undefined;
    try {
      connected = await open({ host: address.host, port }, kind, options.family, options);
      if (options.family !== undefined) await connected.device.status();
      return connected;
    } catch (err) {
      await connected?.device.close();
      if (!notThisKind(err)) throw err;
      failures.push(err);
    }
  }
  // Nothing listening anywhere, or silence everywhere: the first error (XOR's) says it best.
  const first = failures[0] as TplinkError;
  if (failures.every((e) => (e as TplinkError).code === first.code)) throw first;
  const endpoint: TplinkEndpoint = { host: address.host, port: address.port ?? DEFAULT_PORT };
  const summary = failures.map((e) => (e as Error).message).join('; ');
  throw new TplinkProtocolError(endpoint, 'unexpected-reply', `no supported TP-Link protocol answered (${summary})`, failures.at(-1));
}

async function open(
  endpoint: TplinkEndpoint,
  transport: TransportKind,
  family: ProtocolFamily | undefined,
  options: ConnectOptions,
  version?: number,
): Promise<ConnectedPlug> {
  if (transport === 'xor') {
    return { device: new Plug(endpoint, options), kind: { transport, family: 'iot', port: endpoint.port } };
  }
  const common = { ...options, credentials: typeof options.credentials === 'function' ? await options.credentials() : options.credentials };
  const wanted = version === 1 || version === 2 ? version : 'auto';
  const session = transport === 'aes' ? new AesTransport(endpoint, { ...common, loginVersion: wanted }) : new KlapTransport(endpoint, { ...common, version: wanted });
  try {
    if (session instanceof AesTransport) {
      const device = new SmartPlug(session);
      // The login happens on the first request: make it now so the kind is proven.
      if (family === undefined) await device.protocol.call('get_device_info');
      // A remembered kind connects without logging in yet: keep its version.
      return { device, kind: { transport, family: 'smart', port: endpoint.port, version: session.loginVersion ?? version } };
    }
    // Over KLAP an IOT device answers get_sysinfo with `system`; a SMART one with an error code.
    const reply = family === undefined ? await session.send(getSysinfoRequest()) : undefined;
    const resolved = family ?? (isObject(reply) && 'system' in reply ? 'iot' : 'smart');
    const device: PlugDevice = resolved === 'iot' ? new Plug(endpoint, { ...options, transport: session }) : new SmartPlug(session);
    const kind: ConnectionKind = { transport, family: resolved, port: endpoint.port };
    // The version the handshake found (it may differ from the remembered one): read when remembered.
    Object.defineProperty(kind, 'version', { get: () => session.version ?? version, enumerable: true });
    return { device, kind };
  } catch (err) {
    await session.close();
    throw err;
  }
}
