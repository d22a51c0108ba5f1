/** Parsing `host[:port]` as users type it (CLI, Lambda configuration). Pure. */
import { ShadowplugError } from '../errors';

export const DEFAULT_PORT = 9999;

export interface PlugAddress {
  host: string;
  /** Default 9999. */
  port?: number;
}

export class InvalidAddressError extends ShadowplugError {
  constructor(input: string, detail: string) {
    super(`invalid plug address ${JSON.stringify(input)}: ${detail}`, { code: 'TPLINK_INVALID_ADDRESS', retryable: false });
  }
}

/** `192.168.1.20`, `192.168.1.20:9999`, `plug.lan`, `[fe80::1]:9999` → `{ host, port }`. */
export function parseAddress(input: string, defaultPort = DEFAULT_PORT): { host: string; port: number } {
  const text = input.trim();
  let host = text;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const at = text.indexOf(':');
    host = text.slice(0, at);
    portText = text.slice(at + 1);
  }
  if (host === '' || /\s/.test(host)) throw new InvalidAddressError(input, 'missing or malformed host');
  if (portText === undefined) return { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new InvalidAddressError(input, 'port must be 1..65535');
  }
  return { host, port: Number(portText) };
}
