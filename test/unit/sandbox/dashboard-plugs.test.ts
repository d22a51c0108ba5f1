/**
 * The dashboard's plug shadows: what it reads from a plug shadow's documents (made by the real
 * shadow rules, sandbox/iot/shadow-document.ts) and how the page says it. Pure: no sockets, times given.
 */
import { describe, expect, it } from 'vitest';
import { applyDelete, applyUpdate, type StoredShadow } from '../../../sandbox/iot/shadow-document';
import type { JsonObject } from '../../../core/shadow/json';
import { DashboardModel } from '../../../sandbox/dashboard/model';
import { ago, energyText, kindText, lastReportText, onlineText, plugLabel, requestLine } from '../../../sandbox/dashboard/plug-format';
import { latestTimestamp, PlugShadows, plugShadowBase, plugShadowView, type PlugEntry } from '../../../sandbox/dashboard/plug-shadows';
import type { PlugShadowView } from '../../../sandbox/dashboard/view';

const HUB = 'shadowplug-device-1';
const LAMP: PlugEntry = { id: 'lamp', host: '127.0.0.1', port: 9999, thing: HUB, shadowName: 'plug-lamp', mode: 'relay' };
const FAN: PlugEntry = { id: 'fan', host: '127.0.0.1', port: 9998, thing: 'shadowplug-device-2', shadowName: 'plug-fan', mode: 'relay' };
const DIRECT: PlugEntry = { id: 'lamp', host: '127.0.0.1', port: 9999, thing: null, shadowName: null, mode: 'direct' };
const REQUEST = '4f6c2a51-0d7e-4b7e-9a0c-1f2e3d4c5b6a';
const T0 = 1_800_000_000; // epoch seconds

/** A plug shadow as the shadow service keeps it, after each update in turn; `documents()` is what it publishes. */
function shadow() {
  let stored: StoredShadow | undefined;
  let documents: JsonObject | undefined;
  return {
    update(state: JsonObject, now: number) {
      const out = applyUpdate(stored, { state }, now);
      stored = out.next;
      documents = out.documents;
      return this;
    },
    delete(now: number) {
      stored = applyDelete(stored, {}, now, 'plug-lamp').next;
      return this;
    },
    /** `update/documents`' `current`, as the dashboard receives it. */
    current: () => documents!.current,
  };
}

const reportedOn = { power: 'on', online: true, model: 'HS110(EU)', alias: 'Desk lamp' };

describe('plugShadowView: a plug shadow document as the dashboard shows it', () => {
  it('shows no shadow before the hub has reported (nothing known, nothing pending)', () => {
    expect(plugShadowView(plugShadowBase(LAMP), undefined)).toEqual({ ...plugShadowBase(LAMP), exists: false, pending: false });
  });

  it("shows a click's desired as pending until the hub answers it, then applied with the power it reported", () => {
    const s = shadow().update({ reported: { ...reportedOn, power: 'off' } }, T0);
    const desired = { power: 'on', requestId: REQUEST, requestedAt: T0 * 1000 + 500 };
    s.update({ desired }, T0 + 1);
    const pending = plugShadowView(plugShadowBase(LAMP), s.current());
    expect(pending).toMatchObject({ exists: true, version: 2, desired, pending: true, reported: { power: 'off', online: true } });
    expect(pending.reportedAt).toBe(T0 * 1000);

    s.update({ reported: { ...reportedOn, lastRequest: { requestId: REQUEST, outcome: 'applied' } } }, T0 + 2);
    const applied = plugShadowView(plugShadowBase(LAMP), s.current());
    expect(applied).toMatchObject({ version: 3, pending: false, lastRequest: { requestId: REQUEST, outcome: 'applied' }, reported: { power: 'on', model: 'HS110(EU)', alias: 'Desk lamp' } });
    expect(applied.reportedAt).toBe((T0 + 2) * 1000);
  });

  it('keeps a failed request\'s error code and message, and the offline plug\'s error', () => {
    const error = { code: 'TPLINK_CONNECTION_REFUSED', message: 'connection refused by 127.0.0.1:9999' };
    const s = shadow()
      .update({ desired: { power: 'on', requestId: REQUEST, requestedAt: 1 } }, T0)
      .update({ reported: { online: false, error, lastRequest: { requestId: REQUEST, outcome: 'failed', error } } }, T0 + 1);
    const view = plugShadowView(plugShadowBase(LAMP), s.current());
    expect(view).toMatchObject({ pending: false, reported: { online: false, error }, lastRequest: { outcome: 'failed', error } });
  });

  it("does not show an earlier request's error on an applied one (the shadow merges lastRequest key by key)", () => {
    const error = { code: 'TPLINK_TIMEOUT', message: 'no answer' };
    const s = shadow()
      .update({ reported: { online: false, error, lastRequest: { requestId: 'old', outcome: 'failed', error } } }, T0)
      .update({ reported: { ...reportedOn, error: null, lastRequest: { requestId: REQUEST, outcome: 'applied' } } }, T0 + 1);
    const view = plugShadowView(plugShadowBase(LAMP), s.current());
    expect(view.lastRequest).toEqual({ requestId: REQUEST, outcome: 'applied' });
    expect(view.reported?.error).toBeUndefined();
  });

  it('reads energy where the plug has a meter, and ignores what is not a number', () => {
    const s = shadow().update({ reported: { ...reportedOn, energy: { powerW: 12.5, voltageV: 230.2, currentA: 'x', totalKwh: 1.25 } } }, T0);
    expect(plugShadowView(plugShadowBase(LAMP), s.current()).reported?.energy).toEqual({ powerW: 12.5, voltageV: 230.2, totalKwh: 1.25 });
  });

  it('takes keys like __proto__ in a shadow as data, never as a prototype', () => {
    const doc = JSON.parse('{"state":{"reported":{"__proto__":{"online":true},"alias":"<b>x</b>"}},"version":1}') as unknown;
    const view = plugShadowView(plugShadowBase(LAMP), doc);
    expect(view.reported).toEqual({ alias: '<b>x</b>' });
    expect(({} as { online?: unknown }).online).toBeUndefined();
  });
});

describe('latestTimestamp', () => {
  it('is the newest timestamp anywhere under the section, arrays included', () => {
    expect(latestTimestamp({ power: { timestamp: 5 }, energy: { powerW: { timestamp: 9 } }, list: [{ timestamp: 7 }] })).toBe(9);
    expect(latestTimestamp(undefined)).toBeUndefined();
    expect(latestTimestamp({})).toBeUndefined();
  });
});

describe('PlugShadows: every plug of the sandbox, fed documents and hub states', () => {
  it('lists each plug of the plugs list, and tells which shadows to read at start (none for direct plugs)', () => {
    const plugs = new PlugShadows([LAMP, FAN, { ...DIRECT, id: 'heater', port: 9997 }]);
    expect(plugs.list().map((p) => p.id)).toEqual(['lamp', 'fan', 'heater']);
    expect(plugs.shadows()).toEqual([
      [HUB, 'plug-lamp'],
      ['shadowplug-device-2', 'plug-fan'],
    ]);
  });

  it('changes only the plug whose shadow changed, ignores shadows that are no plug of ours, and says when nothing changed', () => {
    const plugs = new PlugShadows([LAMP, FAN]);
    const s = shadow().update({ reported: reportedOn }, T0);
    expect(plugs.applyDocument(HUB, 'plug-lamp', s.current())?.reported?.power).toBe('on');
    expect(plugs.applyDocument(HUB, 'plug-lamp', s.current())).toBeUndefined();
    expect(plugs.applyDocument(HUB, 'plug-other', s.current())).toBeUndefined();
    expect(plugs.applyDocument('shadowplug-device-2', 'plug-lamp', s.current())).toBeUndefined();
    expect(plugs.list().find((p) => p.id === 'fan')?.exists).toBe(false);
  });

  it('keeps the newer document when an older version arrives after it, and shows a deleted shadow as gone', () => {
    const plugs = new PlugShadows([LAMP]);
    const s = shadow().update({ reported: { ...reportedOn, power: 'off' } }, T0);
    const older = s.current();
    s.update({ reported: { power: 'on' } }, T0 + 1);
    plugs.applyDocument(HUB, 'plug-lamp', s.current());
    expect(plugs.applyDocument(HUB, 'plug-lamp', older)).toBeUndefined();
    expect(plugs.list()[0]!.reported?.power).toBe('on');
    expect(plugs.applyDocument(HUB, 'plug-lamp', undefined)).toMatchObject({ exists: false, pending: false });
    s.delete(T0 + 2).update({ reported: { power: 'off', online: true } }, T0 + 3);
    expect(plugs.applyDocument(HUB, 'plug-lamp', s.current())?.reported?.power).toBe('off');
  });

  it("marks every plug of a hub when the hub's agent goes offline, and only those", () => {
    const plugs = new PlugShadows([LAMP, FAN]);
    expect(plugs.setHubOnline(HUB, false).map((p) => p.id)).toEqual(['lamp']);
    expect(plugs.setHubOnline(HUB, false)).toEqual([]);
    expect(plugs.list().map((p) => p.hubOnline)).toEqual([false, undefined]);
  });
});

describe('DashboardModel with plugs', () => {
  const header = { bucket: 'b', buttonSerial: 'G030', buttonTopic: 'iotbutton/G030', agents: 'in-process' as const };
  const plug = { host: '127.0.0.1', port: 9999, simulated: true, protocol: '', metered: false };

  it('puts every plug in the snapshot, its hub online with in-process agents, and reports a hub going away as a plug change', () => {
    const m = new DashboardModel({ header, things: [HUB, 'shadowplug-device-2'], plug, plugs: [LAMP, FAN], property: 's3' });
    expect(m.snapshot().plugShadows.map((p) => [p.id, p.hubOnline])).toEqual([
      ['lamp', true],
      ['fan', true],
    ]);
    const changes = m.apply({ type: 'device-online', thing: HUB, online: false });
    expect(changes.plugs.map((p) => [p.id, p.hubOnline])).toEqual([['lamp', false]]);
    expect(m.plugShadows.shadows()).toEqual([
      [HUB, 'plug-lamp'],
      ['shadowplug-device-2', 'plug-fan'],
    ]);
  });

  it('has no plugs when the sandbox lists none', () => {
    const m = new DashboardModel({ header, things: [HUB], plug, property: 's3' });
    expect(m.snapshot().plugShadows).toEqual([]);
    expect(m.apply({ type: 'device-online', thing: HUB, online: false }).plugs).toEqual([]);
  });
});

describe('plug-format: what the page says', () => {
  const now = T0 * 1000 + 20_000;
  const base = (over: Partial<PlugShadowView>): PlugShadowView => ({ ...plugShadowBase(LAMP), exists: true, ...over });

  it('says a pending request is waiting for the hub, and that nobody answers it while the hub is offline', () => {
    const desired = { power: 'on', requestId: REQUEST, requestedAt: now - 12_000 };
    expect(requestLine(base({ desired, pending: true, hubOnline: true }), now)).toEqual({ state: 'pending', text: 'ON requested (4f6c2a51…), asked 12 s ago — waiting for the hub' });
    expect(requestLine(base({ desired, pending: true, hubOnline: false }), now)).toEqual({
      state: 'pending',
      text: `ON requested (4f6c2a51…), asked 12 s ago — hub ${HUB} is offline, so nobody answers it`,
    });
  });

  it('says applied with the power asked for, failed and expired with the code and message', () => {
    const desired = { power: 'off', requestId: REQUEST, requestedAt: now };
    expect(requestLine(base({ desired, lastRequest: { requestId: REQUEST, outcome: 'applied' }, reported: { power: 'off', online: true } }), now)).toEqual({ state: 'applied', text: 'applied: OFF (4f6c2a51…)' });
    const error = { code: 'TPLINK_CONNECTION_REFUSED', message: 'connection refused by 127.0.0.1:9999' };
    expect(requestLine(base({ desired, lastRequest: { requestId: REQUEST, outcome: 'failed', error } }), now)).toEqual({
      state: 'failed',
      text: 'failed (4f6c2a51…): TPLINK_CONNECTION_REFUSED: connection refused by 127.0.0.1:9999',
    });
    const expired = { code: 'PLUG_REQUEST_EXPIRED', message: 'request is 3600 s old' };
    expect(requestLine(base({ desired, lastRequest: { requestId: REQUEST, outcome: 'expired', error: expired } }), now).text).toBe('expired, not applied (4f6c2a51…): PLUG_REQUEST_EXPIRED: request is 3600 s old');
    expect(requestLine(base({ desired, lastRequest: { requestId: REQUEST, outcome: 'expired' } }), now).text).toMatch(/older than the age limit/);
  });

  it('says when there was no request yet, and that a direct plug has no shadow', () => {
    expect(requestLine(base({}), now)).toEqual({ state: 'none', text: 'no request yet' });
    expect(requestLine(plugShadowBase(DIRECT), now).state).toBe('direct');
  });

  it('says online, offline with the reason, or not reported yet', () => {
    expect(onlineText(base({ reported: { online: true } }))).toEqual({ state: 'online', text: 'online' });
    expect(onlineText(base({ reported: { online: false, error: { code: 'TPLINK_TIMEOUT', message: 'no answer from 10.0.0.9:9999' } } }))).toEqual({
      state: 'offline',
      text: 'offline — TPLINK_TIMEOUT: no answer from 10.0.0.9:9999',
      reason: 'TPLINK_TIMEOUT: no answer from 10.0.0.9:9999',
    });
    expect(onlineText(base({})).state).toBe('unknown');
  });

  it('counts the time since the last report, a clock a little behind the shadow counting as now', () => {
    expect(ago(-400)).toBe('just now');
    expect(ago(1_999)).toBe('just now');
    expect(ago(12_000)).toBe('12 s ago');
    expect(ago(185_000)).toBe('3 min ago');
    expect(ago(2 * 3_600_000 + 5 * 60_000)).toBe('2 h 5 min ago');
    expect(lastReportText(base({ reportedAt: now - 4_000 }), now)).toBe('reported 4 s ago');
    expect(lastReportText(base({}), now)).toBe('no report yet');
  });

  it('says how the sandbox runs a plug (kind, protocol, outlet) when its plugs entry says it, and keeps that through every document', () => {
    const outlet = plugShadowBase({ ...LAMP, kind: 'p300-aes', protocol: 'aes', family: 'smart', outlet: 2 });
    expect(kindText(outlet)).toBe('p300-aes · SMART over AES · outlet 2');
    expect(kindText(plugShadowBase({ ...LAMP, kind: 'real' }))).toBe('real');
    expect(kindText(plugShadowBase(LAMP))).toBe('');
    const s = shadow().update({ reported: reportedOn }, T0);
    expect(plugShadowView({ ...outlet, hubOnline: false }, s.current())).toMatchObject({ kind: 'p300-aes', protocol: 'aes', family: 'smart', outlet: 2, hubOnline: false });
    expect(plugShadowView(plugShadowView(outlet, s.current()), undefined)).toEqual({ ...outlet, exists: false, pending: false });
  });

  it('shows energy readings in their units, and the alias (else the id) as the name', () => {
    expect(energyText({ powerW: 12.345, voltageV: 230.16, currentA: 0.054, totalKwh: 1.2345 })).toBe('12.3 W · 230.2 V · 0.05 A · 1.234 kWh');
    expect(energyText({ powerW: 0 })).toBe('0.0 W');
    expect(energyText(undefined)).toBe('');
    expect(plugLabel(base({ reported: { alias: '<img src=x>' } }))).toBe('<img src=x>');
    expect(plugLabel(base({}))).toBe('lamp');
  });
});
