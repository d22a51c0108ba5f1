/**
 * Who may do what to the dashboard. Any page the user has open can send requests to 127.0.0.1 (a
 * form POST, no-cors fetch) or reach it through a DNS name rebound there. So every request must name
 * the dashboard as Host, and a change must be a POST from the dashboard's own Origin. Pure.
 */

export interface RequestFacts {
  method: string;
  host?: string;
  origin?: string;
  /** `Sec-Fetch-Site`, which browsers send and pages cannot forge. */
  fetchSite?: string;
}

export type Verdict = { ok: true } | { ok: false; status: number; reason: string };

/** The origins the page is served from (both names of the loopback address). */
export function ownOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

export function checkHost(facts: RequestFacts, port: number): Verdict {
  const hosts = ownOrigins(port).map((o) => o.slice('http://'.length));
  if (facts.host !== undefined && hosts.includes(facts.host.toLowerCase())) return { ok: true };
  return { ok: false, status: 421, reason: `Host must be ${hosts.join(' or ')} (got ${facts.host ?? 'none'})` };
}

/** For requests that change state: POST, from the dashboard's own page. */
export function checkStateChange(facts: RequestFacts, port: number): Verdict {
  const host = checkHost(facts, port);
  if (!host.ok) return host;
  if (facts.method !== 'POST') return { ok: false, status: 405, reason: 'state changes only by POST' };
  if (facts.origin === undefined || !ownOrigins(port).includes(facts.origin.toLowerCase())) {
    return { ok: false, status: 403, reason: `Origin ${facts.origin ?? '(none)'} may not change the sandbox; only the dashboard's own page may` };
  }
  if (facts.fetchSite !== undefined && facts.fetchSite !== 'same-origin') {
    return { ok: false, status: 403, reason: `a ${facts.fetchSite} request may not change the sandbox` };
  }
  return { ok: true };
}
