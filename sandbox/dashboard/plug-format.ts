/**
 * How the page says what a plug's shadow means: the last request and why one is pending, energy,
 * the time since the hub's last report. Pure and type-only imports: the page bundles it.
 */
import type { PlugReportedView, PlugShadowView } from './view';

export type RequestState = 'direct' | 'none' | 'pending' | 'applied' | 'expired' | 'failed';

/** Request ids are UUIDs: the first 8 characters tell them apart on one screen. */
export function shortId(requestId: string): string {
  return requestId.length > 8 ? `${requestId.slice(0, 8)}…` : requestId;
}

export function powerText(power: string | undefined): string {
  return power === undefined ? '—' : power.toUpperCase();
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h 5 min ago` (a clock behind the shadow's counts as now). */
export function ago(elapsedMs: number): string {
  const s = Math.floor(elapsedMs / 1000);
  if (s <= 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  return `${Math.floor(min / 60)} h ${min % 60} min ago`;
}

/** `12.3 W · 230.1 V · 0.05 A · 1.23 kWh`, or '' without readings. */
export function energyText(energy: PlugReportedView['energy']): string {
  if (!energy) return '';
  const parts: string[] = [];
  if (energy.powerW !== undefined) parts.push(`${energy.powerW.toFixed(1)} W`);
  if (energy.voltageV !== undefined) parts.push(`${energy.voltageV.toFixed(1)} V`);
  if (energy.currentA !== undefined) parts.push(`${energy.currentA.toFixed(2)} A`);
  if (energy.totalKwh !== undefined) parts.push(`${energy.totalKwh.toFixed(3)} kWh`);
  return parts.join(' · ');
}

function errorText(error: { code: string; message: string } | undefined): string {
  if (!error) return '';
  return [error.code, error.message].filter((s) => s !== '').join(': ');
}

/** The last request's story: asked for, answered (applied / expired / failed and why), or still waiting and why. */
export function requestLine(plug: PlugShadowView, now: number): { state: RequestState; text: string } {
  if (plug.mode === 'direct') return { state: 'direct', text: 'direct mode: the button function switches the plug over TCP, no shadow' };
  const { desired, lastRequest } = plug;
  if (plug.pending && desired?.requestId !== undefined) {
    const since = desired.requestedAt !== undefined ? `, asked ${ago(now - desired.requestedAt)}` : '';
    const why =
      plug.hubOnline === false
        ? ` — hub ${plug.thing ?? '?'} is offline, so nobody answers it`
        : ' — waiting for the hub';
    return { state: 'pending', text: `${powerText(desired.power)} requested (${shortId(desired.requestId)})${since}${why}` };
  }
  if (!lastRequest) return { state: 'none', text: 'no request yet' };
  const id = shortId(lastRequest.requestId);
  const asked = desired?.requestId === lastRequest.requestId ? desired.power : undefined;
  switch (lastRequest.outcome) {
    case 'applied':
      return { state: 'applied', text: `applied: ${powerText(asked ?? plug.reported?.power)} (${id})` };
    case 'expired':
      return { state: 'expired', text: `expired, not applied (${id})${lastRequest.error ? `: ${errorText(lastRequest.error)}` : ': older than the age limit when the hub saw it'}` };
    default:
      return { state: 'failed', text: `failed (${id})${lastRequest.error ? `: ${errorText(lastRequest.error)}` : ''}` };
  }
}

/** `online`, `offline` or `unknown` (no report yet), and why it is offline (`reason`: code: message). */
export function onlineText(plug: PlugShadowView): { state: 'online' | 'offline' | 'unknown'; text: string; reason?: string } {
  const online = plug.reported?.online;
  if (online === undefined) return { state: 'unknown', text: plug.mode === 'direct' ? 'not reported (direct)' : 'no report yet' };
  if (online) return { state: 'online', text: 'online' };
  const reason = errorText(plug.reported?.error);
  return reason ? { state: 'offline', text: `offline — ${reason}`, reason } : { state: 'offline', text: 'offline' };
}

/** The name a person knows the plug by: its alias, else its id. */
export function plugLabel(plug: PlugShadowView): string {
  return plug.reported?.alias ?? plug.id;
}

/** `p110-klap · SMART over KLAP · outlet 2`: how the sandbox runs the plug, '' when it does not say. */
export function kindText(plug: PlugShadowView): string {
  const parts: string[] = [];
  if (plug.kind !== undefined) parts.push(plug.kind);
  if (plug.protocol !== undefined) parts.push(`${plug.family !== undefined ? `${plug.family.toUpperCase()} over ` : ''}${plug.protocol.toUpperCase()}`);
  if (plug.outlet !== undefined) parts.push(`outlet ${plug.outlet}`);
  return parts.join(' · ');
}

/** `reported 3 s ago` / `no report yet`. */
export function lastReportText(plug: PlugShadowView, now: number): string {
  return plug.reportedAt === undefined ? 'no report yet' : `reported ${ago(now - plug.reportedAt)}`;
}
