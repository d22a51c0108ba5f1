/**
 * `host[:port]` as people type it (`192.168.1.20`, `plug.lan:80`, `[fe80::1]:9999`, a bare IPv6
 * address takes no port) → `{ host, port }`, `defaultPort` when none is given; else which part is wrong.
 */
export function parseHostPort(input: string, defaultPort: number): { host: string; port: number } | 'host' | 'port' {
  const text = input.trim();
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  const single = !bracketed && (text.match(/:/g) ?? []).length === 1 ? text.indexOf(':') : -1;
  const host = bracketed ? bracketed[1]! : single >= 0 ? text.slice(0, single) : text;
  const portText = bracketed ? bracketed[2] : single >= 0 ? text.slice(single + 1) : undefined;
  if (host === '' || /\s/.test(host)) return 'host';
  if (portText === undefined) return { host, port: defaultPort };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535) return 'port';
  return { host, port: Number(portText) };
}

/** `host:port` as people and URLs write it: an IPv6 address in brackets (`[fd00::5]:9999`). Pure. */
export function formatHostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
