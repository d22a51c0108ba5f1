/** The dashboard's picture of each plug's shadow (`plug-<id>` on its hub, docs/plug-relay.md). Pure: fed documents. */
import { parseReported } from '../../core/plug-relay/contract';
import { isObject, own, type Json, type JsonObject } from '../../core/shadow/json';
import type { SandboxInfo } from '../sandbox-info';
import type { PlugReportedView, PlugShadowView } from './view';

/** An entry of the sandbox's `plugs` list (kind, protocol and outlet when the sandbox says them). */
export type PlugEntry = NonNullable<SandboxInfo['plugs']>[number] & { kind?: string; protocol?: string; family?: string; outlet?: number | string };

/** The value when it is a JSON object. */
export function obj(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

function str(o: JsonObject | undefined, key: string): string | undefined {
  const v = own(o, key);
  return typeof v === 'string' ? v : undefined;
}

function num(o: JsonObject | undefined, key: string): number | undefined {
  const v = own(o, key);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `{ code, message }` when the value has either. */
function errorOf(value: Json | undefined): { code: string; message: string } | undefined {
  const e = obj(value);
  const code = str(e, 'code');
  const message = str(e, 'message');
  return code !== undefined || message !== undefined ? { code: code ?? '', message: message ?? '' } : undefined;
}

/** A plug of the sandbox's `plugs` list before anything is known of its shadow. */
export function plugShadowBase({ model: _model, ...entry }: PlugEntry): PlugShadowView {
  return { ...entry, exists: false, pending: false };
}

/** The latest `timestamp` under a metadata section (epoch seconds), or undefined. */
export function latestTimestamp(metadata: Json | undefined): number | undefined {
  if (Array.isArray(metadata)) return metadata.reduce<number | undefined>((max, m) => maxOf(max, latestTimestamp(m)), undefined);
  if (!isObject(metadata)) return undefined;
  let max: number | undefined;
  for (const key of Object.keys(metadata)) {
    const value = metadata[key]!;
    max = maxOf(max, key === 'timestamp' && typeof value === 'number' ? value : latestTimestamp(value));
  }
  return max;
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

function reportedView(reported: JsonObject | undefined): PlugReportedView | undefined {
  if (!reported) return undefined;
  const { power, online, alias } = parseReported(reported);
  const e = obj(own(reported, 'energy'));
  const energy = e
    ? Object.fromEntries((['powerW', 'voltageV', 'currentA', 'totalKwh'] as const).flatMap((k) => (num(e, k) !== undefined ? [[k, num(e, k)]] : [])))
    : undefined;
  // Absent values are undefined: the page reads the view as JSON, where they vanish.
  return { power, online, model: str(reported, 'model'), alias, energy: energy && Object.keys(energy).length > 0 ? energy : undefined, error: errorOf(own(reported, 'error')) };
}

/**
 * The plug as a shadow document says: a GetThingShadow document, or an `update/documents`
 * message's `current` (both have `state`, `metadata` and `version`); undefined: no shadow.
 */
export function plugShadowView(base: PlugShadowView, document: unknown): PlugShadowView {
  const { desired: _d, reported: _r, lastRequest: _l, version: _v, reportedAt: _a, ...configured } = base;
  const view: PlugShadowView = { ...configured, exists: false, pending: false };
  if (!isObject(document)) return view;
  const state = obj(own(document, 'state'));
  const desiredJson = obj(own(state, 'desired'));
  const reportedJson = obj(own(state, 'reported'));
  view.exists = true;
  const version = num(document, 'version');
  if (version !== undefined) view.version = version;
  if (desiredJson) view.desired = { power: str(desiredJson, 'power'), requestId: str(desiredJson, 'requestId'), requestedAt: num(desiredJson, 'requestedAt') };
  const reported = reportedView(reportedJson);
  if (reported) view.reported = reported;
  const last = parseReported(reportedJson ?? null).lastRequest;
  // An applied request has no error: one left over from an earlier request's object (the shadow merges `lastRequest` key by key) is not its.
  if (last) view.lastRequest = { requestId: last.requestId, outcome: last.outcome, ...(last.error && last.outcome !== 'applied' ? { error: last.error } : {}) };
  view.pending = view.desired?.requestId !== undefined && view.desired.requestId !== last?.requestId;
  const at = latestTimestamp(own(obj(own(document, 'metadata')), 'reported'));
  if (at !== undefined) view.reportedAt = at * 1000;
  return view;
}

/** Each plug's view by `<thing>/<shadowName>`, fed shadow documents and the hubs' online state. */
export class PlugShadows {
  private readonly views = new Map<string, PlugShadowView>();

  constructor(entries: PlugEntry[]) {
    for (const entry of entries) this.views.set(keyOf(entry.thing, entry.shadowName ?? `#${entry.id}`), plugShadowBase(entry));
  }

  list(): PlugShadowView[] {
    return [...this.views.values()];
  }

  /** The shadows to read at start: `[thing, shadowName]` of every relay plug. */
  shadows(): [string, string][] {
    return this.list().flatMap((v) => (v.thing !== null && v.shadowName !== null ? [[v.thing, v.shadowName] as [string, string]] : []));
  }

  /** A plug shadow's new document (undefined: deleted). The plug's new view if it is one of ours and changed. */
  applyDocument(thing: string, shadowName: string, document: unknown): PlugShadowView | undefined {
    const key = keyOf(thing, shadowName);
    const before = this.views.get(key);
    if (!before) return undefined;
    // An older document than the one shown (the start's read raced a message): keep the newer.
    const version = isObject(document) ? num(document, 'version') : undefined;
    if (version !== undefined && before.version !== undefined && version < before.version) return undefined;
    return this.replace(key, before, plugShadowView(before, document));
  }

  /** A hub's agent connected or went away: the views of its plugs that changed. */
  setHubOnline(thing: string, online: boolean): PlugShadowView[] {
    const changed: PlugShadowView[] = [];
    for (const [key, view] of this.views) {
      if (view.thing !== thing) continue;
      const next = this.replace(key, view, { ...view, hubOnline: online });
      if (next) changed.push(next);
    }
    return changed;
  }

  private replace(key: string, before: PlugShadowView, after: PlugShadowView): PlugShadowView | undefined {
    this.views.set(key, after);
    return JSON.stringify(after) === JSON.stringify(before) ? undefined : after;
  }
}

function keyOf(thing: string | null, shadowName: string): string {
  return `${thing ?? ''}/${shadowName}`;
}
