/**
 * The dashboard's pure parts: the picture it keeps of devices and uploads, the terminal's fleet
 * summary, who may change state, and energy readings in both firmware's units.
 */
import { describe, expect, it } from 'vitest';
import type { S3Event } from 'aws-lambda';
import { uploadEvents as narratedUploads } from '../../../sandbox/narration';
import type { SandboxEvent } from '../../../sandbox/event-log';
import { FleetNarration } from '../../../sandbox/fleet-narration';
import { UploadTracker } from '../../../sandbox/upload-tracker';
import { ShadowObserver } from '../../../sandbox/shadow-observer';
import { DashboardModel, TIMELINE_LENGTH } from '../../../sandbox/dashboard/model';
import { checkHost, checkStateChange } from '../../../sandbox/dashboard/request-guard';
import { energyView, protocolText } from '../../../sandbox/dashboard/plug-monitor';

const HASH = 'a'.repeat(64);
const URL_ = 's3://b/fw.bin';
const things = (n: number) => Array.from({ length: n }, (_, i) => `d${i + 1}`);

/** The events one upload to `targets` produces, in the order the sandbox emits them. */
function uploadEvents(targets: string[]): SandboxEvent[] {
  return [
    { type: 'upload', bucket: 'b', key: 'fw.bin', size: 100, eventName: 'ObjectCreated:Put' },
    { type: 'hashed', url: URL_, hash: HASH },
    ...targets.map((thing): SandboxEvent => ({ type: 'desired', thing, hash: HASH, url: URL_ })),
    { type: 'shadows-written', key: 'fw.bin', hash: HASH, things: targets },
    ...targets.flatMap((thing): SandboxEvent[] => [
      { type: 'progress', thing, bytes: 50, total: 100 },
      { type: 'progress', thing, bytes: 100, total: 100 },
      { type: 'installed', thing, hash: HASH, path: `/x/${thing}/fw.bin` },
      { type: 'reported', thing, hash: HASH, url: URL_ },
    ]),
  ];
}

function clockAt(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('UploadTracker', () => {
  it('follows an upload through hashed, shadows and verified, finishing when every target has reported', () => {
    const clock = clockAt();
    const tracker = new UploadTracker({ clock: clock.now });
    const stages: string[] = [];
    for (const e of uploadEvents(['d1', 'd2'])) {
      clock.advance(10);
      for (const u of tracker.apply(e)) stages.push(u.stage);
    }
    const [u] = tracker.uploads();
    expect(u).toMatchObject({ key: 'fw.bin', url: URL_, hash: HASH, stage: 'verified', targets: 2, shadows: 2, verified: 2, errors: 0, downloading: 0 });
    expect(u!.finishedAt! - u!.startedAt).toBeGreaterThan(0);
    expect([...new Set(stages)]).toEqual(['uploaded', 'hashed', 'shadows', 'verified']);
  });

  it('is not finished while the Lambda may still write shadows, even if every device so far has verified', () => {
    const tracker = new UploadTracker();
    const early: SandboxEvent[] = [
      { type: 'upload', bucket: 'b', key: 'fw.bin', size: 1, eventName: 'ObjectCreated:Put' },
      { type: 'desired', thing: 'd1', hash: HASH, url: URL_ },
      { type: 'reported', thing: 'd1', hash: HASH, url: URL_ },
    ];
    early.forEach((e) => tracker.apply(e));
    expect(tracker.uploads()[0]!.stage).toBe('shadows');
    tracker.apply({ type: 'shadows-written', key: 'fw.bin', hash: HASH, things: ['d1'] });
    expect(tracker.uploads()[0]!.stage).toBe('verified');
  });

  describe('fed by the shadow observer (the dashboard\'s wiring)', () => {
    const value = (key: string, versionId: string) => ({ url: `s3://b/${key}`, hash: HASH, versionId });
    const documents = (desired: object, reported?: object) => ({ current: { state: { desired: { s3: desired }, ...(reported ? { reported: { s3: reported } } : {}) } } });
    /** One upload of `key` (same bytes every time) that the Lambda writes as `version`; the device's report comes later. */
    function upload(tracker: UploadTracker, observer: ShadowObserver, key: string, version: string, reportedBefore?: object) {
      tracker.apply({ type: 'upload', bucket: 'b', key, size: 100, eventName: 'ObjectCreated:Put' });
      observer.documents('d1', documents(value(key, version), reportedBefore));
      tracker.apply({ type: 'shadows-written', key, hash: HASH, things: ['d1'] });
    }

    it.each([
      ['a new key', 'copy.bin', 'v2'],
      ['the same key again (a new version)', 'fw.bin', 'v2'],
    ])('shows an upload of %s with the same bytes as the last one verified once the device reports it, not before', (_what, key, version) => {
      const tracker = new UploadTracker();
      const observer = new ShadowObserver({ property: 's3', emit: (e) => tracker.apply(e) });
      upload(tracker, observer, 'fw.bin', 'v1');
      observer.documents('d1', documents(value('fw.bin', 'v1'), value('fw.bin', 'v1')));
      expect(tracker.uploads()[0]).toMatchObject({ stage: 'verified', verified: 1 });

      upload(tracker, observer, key, version, value('fw.bin', 'v1'));
      // The device still reports the first upload: the same hash is not this upload's report.
      expect(tracker.uploads()[1]).toMatchObject({ key, stage: 'shadows', shadows: 1, verified: 0 });
      expect(observer.caughtUp('d1')).toBe(false);
      observer.documents('d1', documents(value(key, version), value(key, version)));
      expect(tracker.uploads()[1]).toMatchObject({ key, stage: 'verified', verified: 1, targets: 1 });
      expect(observer.caughtUp('d1')).toBe(true);
    });
  });

  it('counts devices that failed, and forgets the error once the device verifies', () => {
    const tracker = new UploadTracker();
    const [first, ...rest] = uploadEvents(['d1']);
    tracker.apply(first!);
    tracker.apply({ type: 'hashed', url: URL_, hash: HASH });
    tracker.apply({ type: 'desired', thing: 'd1', hash: HASH, url: URL_ });
    tracker.apply({ type: 'device-error', thing: 'd1', message: 'hash mismatch' });
    expect(tracker.uploads()[0]!.errors).toBe(1);
    rest.forEach((e) => tracker.apply(e));
    expect(tracker.uploads()[0]).toMatchObject({ errors: 0, verified: 1, stage: 'verified' });
  });

  it('marks an upload the Lambda ignored or gave up on', () => {
    const tracker = new UploadTracker();
    tracker.apply({ type: 'upload', bucket: 'b', key: 'k1', size: 1, eventName: 'ObjectCreated:Put' });
    tracker.apply({ type: 'upload-ignored', key: 'k1', message: 'unchanged' });
    tracker.apply({ type: 'upload', bucket: 'b', key: 'k2', size: 1, eventName: 'ObjectCreated:Put' });
    tracker.apply({ type: 'upload-failed', key: 'k2', message: 'boom (retry in 1000 ms)' });
    expect(tracker.uploads().map((u) => u.stage)).toEqual(['ignored', 'uploaded']);
    tracker.apply({ type: 'upload-failed', key: 'k2', message: 'boom (no retries left)' });
    expect(tracker.uploads()[1]).toMatchObject({ stage: 'failed', message: 'boom (no retries left)' });
  });
});

describe('FleetNarration (the terminal)', () => {
  it('gives one device a line per step, progress at most once a second', () => {
    const clock = clockAt();
    const n = new FleetNarration({ devices: 1, clock: clock.now });
    const lines = uploadEvents(['d1']).flatMap((e) => n.lines(e).map((l) => l.text));
    expect(lines.filter((l) => l.includes('downloading'))).toHaveLength(2); // the first and the finished one
    expect(lines.some((l) => l.startsWith('shadow   d1 desired'))).toBe(true);
    expect(lines.some((l) => l.startsWith('fleet'))).toBe(false);
  });

  it('gives a fleet of 20 one summary line per upload instead of a line per device step', () => {
    const clock = clockAt();
    const n = new FleetNarration({ devices: 20, clock: clock.now });
    const lines = uploadEvents(things(20)).flatMap((e) => {
      clock.advance(1);
      return n.lines(e).map((l) => l.text);
    });
    expect(lines.filter((l) => /^(shadow|device) /.test(l))).toEqual([]);
    const fleet = lines.filter((l) => l.startsWith('fleet'));
    expect(fleet.length).toBeLessThanOrEqual(3);
    expect(fleet.at(-1)).toMatch(/^fleet {4}s3:\/\/b\/fw\.bin sha256 aaaaaaaaaaaa…: 20\/20 devices verified in \d+\.\d\d s$/);
    expect(lines.length).toBeLessThan(10);
  });

  it('still gives each device error its own line, once until the message changes', () => {
    const n = new FleetNarration({ devices: 20 });
    const e: SandboxEvent = { type: 'device-error', thing: 'd3', message: 'disk full' };
    expect(n.lines(e).map((l) => l.text)).toContain('device   d3 ERROR: disk full');
    expect(n.lines(e)).toEqual([]);
    expect(n.lines({ ...e, message: 'other' })[0]).toMatchObject({ error: true });
  });
});

describe('DashboardModel', () => {
  const header = { bucket: 'b', buttonSerial: 'S', buttonTopic: 'iotbutton/S', agents: 'in-process' as const };
  const plug = { host: '127.0.0.1', port: 1, simulated: true, protocol: 'p', metered: false };

  it('summarises the fleet from the shadows and marks devices downloading and in error', () => {
    const m = new DashboardModel({ header, things: things(3), plug, property: 's3' });
    const file = { url: URL_, hash: HASH, size: 100, key: 'fw.bin' };
    m.applyShadow('d1', { state: { desired: { s3: file }, reported: { s3: file } }, version: 4 });
    m.applyShadow('d2', { state: { desired: { s3: file } }, version: 2 });
    m.applyShadow('d3', { state: { desired: { s3: file }, reported: { s3: { error: { code: 'HASH_MISMATCH', message: 'sha256 differs' } } } }, version: 3 });
    m.apply({ type: 'progress', thing: 'd2', bytes: 10, total: 100 });
    m.apply({ type: 'device-online', thing: 'd3', online: false });
    expect(m.fleet()).toEqual({ total: 3, inSync: 1, online: 2, downloading: 1, errors: 1 });
    expect(m.device('d1')).toMatchObject({ inSync: true, shadowVersion: 4, desired: { key: 'fw.bin', size: 100 }, reported: { hash: HASH } });
    expect(m.device('d3')).toMatchObject({ inSync: false, lastError: 'sha256 differs', online: false });
  });

  it('does not show a device in sync while it reports the same bytes under another key or version', () => {
    const m = new DashboardModel({ header, things: ['d1'], plug, property: 's3' });
    const old = { url: URL_, hash: HASH, key: 'fw.bin', versionId: 'v1' };
    for (const asked of [{ ...old, url: 's3://b/copy.bin', key: 'copy.bin' }, { ...old, versionId: 'v2' }]) {
      m.applyShadow('d1', { state: { desired: { s3: asked }, reported: { s3: old } }, version: 5 });
      expect(m.device('d1')).toMatchObject({ inSync: false });
      m.applyShadow('d1', { state: { desired: { s3: asked }, reported: { s3: asked } }, version: 6 });
      expect(m.device('d1')).toMatchObject({ inSync: true });
    }
  });

  it('asks for the shadow to be read again after each step that changes it, not after progress', () => {
    const m = new DashboardModel({ header, things: ['d1'], plug, property: 's3' });
    expect(m.apply({ type: 'progress', thing: 'd1', bytes: 1 }).reread).toEqual([]);
    expect(m.apply({ type: 'reported', thing: 'd1', hash: HASH, url: URL_ }).reread).toEqual(['d1']);
  });

  it('keeps a bounded timeline', () => {
    const m = new DashboardModel({ header, things: ['d1'], plug, property: 's3' });
    for (let i = 0; i < TIMELINE_LENGTH + 50; i++) m.apply({ type: 'click', serial: 'S', clickType: 'SINGLE', requestId: String(i) });
    const { timeline } = m.snapshot();
    expect(timeline).toHaveLength(TIMELINE_LENGTH);
    expect(timeline.at(-1)!.seq).toBe(TIMELINE_LENGTH + 50);
  });

  it('reports a plug change only when something visible changed', () => {
    const m = new DashboardModel({ header, things: ['d1'], plug, property: 's3' });
    expect(m.setPlug({ ...plug, online: true, relayState: 1, checkedAt: 'a' })).toBe(true);
    expect(m.setPlug({ ...plug, online: true, relayState: 1, checkedAt: 'b' })).toBe(false);
  });
});

describe('request guard', () => {
  const port = 4321;
  it('lets the page itself POST', () => {
    expect(checkStateChange({ method: 'POST', host: '127.0.0.1:4321', origin: 'http://127.0.0.1:4321', fetchSite: 'same-origin' }, port)).toEqual({ ok: true });
    expect(checkStateChange({ method: 'POST', host: 'localhost:4321', origin: 'http://localhost:4321' }, port)).toEqual({ ok: true });
  });

  it('refuses another origin, no origin, a cross-site fetch, and anything but POST', () => {
    expect(checkStateChange({ method: 'POST', host: '127.0.0.1:4321', origin: 'http://evil.example' }, port)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ method: 'POST', host: '127.0.0.1:4321', origin: 'http://127.0.0.1:9999' }, port)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ method: 'POST', host: '127.0.0.1:4321' }, port)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ method: 'POST', host: '127.0.0.1:4321', origin: 'http://127.0.0.1:4321', fetchSite: 'cross-site' }, port)).toMatchObject({ ok: false, status: 403 });
    expect(checkStateChange({ method: 'GET', host: '127.0.0.1:4321', origin: 'http://127.0.0.1:4321' }, port)).toMatchObject({ ok: false, status: 405 });
  });

  it('refuses a Host that is not the dashboard (a DNS name rebound to 127.0.0.1)', () => {
    expect(checkHost({ method: 'GET', host: 'attacker.example:4321' }, port)).toMatchObject({ ok: false, status: 421 });
    expect(checkHost({ method: 'GET' }, port)).toMatchObject({ ok: false });
  });
});

describe("the plug monitor's texts", () => {
  it('shows a meter reading in watts, volts, amps and watt-hours', () => {
    expect(energyView({ powerW: 12.5, voltageV: 230.1, currentA: 0.054, totalKwh: 1.2 })).toEqual({ powerW: 12.5, voltageV: 230.1, currentA: 0.054, totalWh: 1200 });
    expect(energyView({ powerW: 12 })).toEqual({ powerW: 12 });
  });

  it('says nothing for no reading or one without power', () => {
    expect(energyView(undefined)).toBeUndefined();
    expect(energyView({ voltageV: 230 })).toBeUndefined();
  });

  it('names the protocol that answered: family over transport, with the KLAP/AES version', () => {
    expect(protocolText({ transport: 'xor', family: 'iot', version: 2 })).toBe('IOT over XOR');
    expect(protocolText({ transport: 'klap', family: 'smart', version: 2 })).toBe('SMART over KLAP v2');
    expect(protocolText({ transport: 'klap', family: 'iot', version: 1 })).toBe('IOT over KLAP v1');
    expect(protocolText({ transport: 'aes', family: 'smart' })).toBe('SMART over AES');
  });
});

describe("a device's release, as the dashboard shows it", () => {
  const signed = (release: number, hash = HASH) => ({ url: URL_, key: 'fw.bin', hash, manifest: { release }, signature: 'c2ln' });
  const shadowOf = (desired: unknown, reported: unknown) => ({ state: { desired: { s3: desired }, reported: { s3: reported } }, version: 3 });
  const deviceAfter = (document: unknown) => {
    const model = new DashboardModel({ header: { bucket: 'b', buttonSerial: 'S', buttonTopic: 't', agents: 'in-process' }, things: ['d1'], plug: { host: 'h', port: 1, simulated: true, protocol: '', metered: false }, property: 's3' });
    model.applyShadow('d1', document);
    return model.device('d1')!;
  };

  it('verified, with the installed release number, once the device reports the signed value it was asked for', () => {
    expect(deviceAfter(shadowOf(signed(2), { ...signed(2), installedAt: 'x', path: '/p' })).release).toEqual({ state: 'verified', release: 2 });
  });

  it('signed, with the number asked for, until the device has installed it; unsigned when the value carries no release', () => {
    expect(deviceAfter(shadowOf(signed(3, 'c'.repeat(64)), signed(2))).release).toEqual({ state: 'signed', release: 3 });
    expect(deviceAfter(shadowOf({ url: URL_, key: 'fw.bin', hash: HASH }, undefined)).release).toEqual({ state: 'unsigned' });
  });

  it("refused, with the device's code and the release it refused, when its error names the value asked for", () => {
    const older = signed(1);
    expect(deviceAfter(shadowOf(older, { ...signed(2), error: { code: 'RELEASE_ROLLBACK', message: 'refused', hash: HASH } })).release).toEqual({ state: 'refused', code: 'RELEASE_ROLLBACK', release: 1 });
    // An error about other bytes, or one that is no refusal, says nothing about this release.
    expect(deviceAfter(shadowOf(older, { error: { code: 'RELEASE_ROLLBACK', message: 'refused', hash: 'b'.repeat(64) } })).release).toEqual({ state: 'signed', release: 1 });
    expect(deviceAfter(shadowOf(older, { error: { code: 'S3_THROTTLED', message: 'slow down', hash: HASH } })).release).toEqual({ state: 'signed', release: 1 });
  });

  it('not refused for RELEASE_UNSIGNED once the same bytes carry their signed release (the object arrived before its companion)', () => {
    expect(deviceAfter(shadowOf(signed(4), { error: { code: 'RELEASE_UNSIGNED', message: 'refused', hash: HASH } })).release).toEqual({ state: 'signed', release: 4 });
  });
});

describe('a signed release in the upload panel', () => {
  const s3Event = (key: string) => ({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key, size: 300 } } }] }) as unknown as S3Event;

  it("counts a publish's companion and counter objects as no uploads of their own", () => {
    expect(narratedUploads(s3Event('fw.bin.shadowplug-release'))).toEqual([]);
    expect(narratedUploads(s3Event('fw.bin.shadowplug-release-counter'))).toEqual([]);
    expect(narratedUploads(s3Event('fw.bin'))).toEqual([{ type: 'upload', bucket: 'b', key: 'fw.bin', size: 300, eventName: 'ObjectCreated:Put' }]);
  });

  it('keeps following an upload whose shadows were written when a later event of it changes nothing (its companion, a duplicate)', () => {
    const tracker = new UploadTracker({ clock: () => 0 });
    tracker.apply({ type: 'upload', bucket: 'b', key: 'fw.bin', size: 100, eventName: 'ObjectCreated:Put' });
    tracker.apply({ type: 'shadows-written', key: 'fw.bin', hash: HASH, things: ['d1'] });
    tracker.apply({ type: 'upload-ignored', key: 'fw.bin', message: 'superseded: d1: unchanged' });
    expect(tracker.uploads()[0]).toMatchObject({ stage: 'shadows' });
    tracker.apply({ type: 'reported', thing: 'd1', hash: HASH, url: URL_ });
    expect(tracker.uploads()[0]).toMatchObject({ stage: 'verified', verified: 1 });
  });
});
