/** Parsing and checking `host[:port]` as users type it (CLI, Lambda configuration, CDK context). Pure. */
import { ShadowplugError } from '../errors';
import { parseHostPort } from '../util/host-port';
import type { TplinkEndpoint } from './errors';

export const DEFAULT_PORT = 9999;

export type TransportKind = 'xor' | 'klap' | 'aes';
export type ProtocolFamily = 'iot' | 'smart';
export const TRANSPORT_KINDS: readonly TransportKind[] = ['xor', 'klap', 'aes'];
export const PROTOCOL_FAMILIES: readonly ProtocolFamily[] = ['iot', 'smart'];

/** A device's endpoint as given: without a port, each protocol's own (XOR 9999, KLAP and AES 80). */
export type PlugAddress = Pick<TplinkEndpoint, 'host'> & Partial<TplinkEndpoint>;

function invalidAddress(input: string, detail: string): ShadowplugError {
  return new ShadowplugError(`invalid plug address ${JSON.stringify(input)}: ${detail}`, { code: 'TPLINK_INVALID_ADDRESS', retryable: false });
}

/** `192.168.1.20`, `192.168.1.20:9999`, `plug.lan`, `[fe80::1]:9999` → `{ host, port }`. */
export function parseAddress(input: string, defaultPort = DEFAULT_PORT): TplinkEndpoint {
  const parsed = parseHostPort(input, defaultPort);
  if (parsed === 'host') throw invalidAddress(input, 'missing or malformed host');
  if (parsed === 'port') throw invalidAddress(input, 'port must be 1..65535');
  return parsed;
}

const IPV4_LIKE = /^[\d.]+$/;
const HOST_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

/** An IPv4 address, a bare IPv6 address or a DNS name (a port forward's dynamic DNS, say); nothing else. */
export function isValidHost(host: string): boolean {
  if (host.includes(':')) return isIpv6(host);
  if (IPV4_LIKE.test(host)) {
    const parts = host.split('.');
    return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
  }
  if (host.length > 253) return false;
  return host.split('.').every((label) => HOST_LABEL.test(label));
}

/** Up to 8 groups of 1–4 hex digits, at most one `::`, optionally ending in a dotted IPv4. */
function isIpv6(host: string): boolean {
  const groups = host.split(':');
  if (groups.length < 3 || groups.length > 8 || host.includes(':::') || host.split('::').length > 2) return false;
  if (!host.includes('::') && groups.some((g) => g === '')) return false;
  return groups.every((g, i) => /^[0-9A-Fa-f]{0,4}$/.test(g) || (i === groups.length - 1 && g.includes('.') && isValidHost(g)));
}
