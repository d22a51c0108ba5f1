/** `host:port` as people and URLs write it: an IPv6 address in brackets (`[fd00::5]:9999`). Pure. */
export function formatHostPort(host: string, port: number | string): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
