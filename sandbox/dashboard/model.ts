/** The dashboard's picture of the sandbox, from SandboxEvents, shadows and plug checks. Pure: a clock given. */
import type { SandboxEvent } from '../event-log';
import { FleetNarration } from '../fleet-narration';
import { sameObjectNamed } from '../shadow-observer';
import { obj, PlugShadows, type PlugEntry } from './plug-shadows';
import { RolloutTracker } from './rollouts';
import { REFUSAL_CODES } from '../../core/release/trust';
import type { DashboardHeader, DeviceView, ReleaseView, FileView, FleetSummary, PlugShadowView, PlugView, RolloutView, Snapshot, TimelineEntry, UploadView } from './view';

/** Timeline entries kept (and sent to a page that connects). */
export const TIMELINE_LENGTH = 200;

/** `desired.<p>` or `reported.<p>` as the page shows it; undefined when it names no file. */
export function fileOf(value: unknown): FileView | undefined {
  const v = obj(value);
  if (!v || typeof v.hash !== 'string') return undefined;
  const url = typeof v.url === 'string' ? v.url : '';
  const key = typeof v.key === 'string' ? v.key : url.replace(/^s3:\/\/[^/]*\//, '');
  return { key, url, hash: v.hash, ...(typeof v.size === 'number' ? { size: v.size } : {}) };
}

function errorOf(reported: unknown): string | undefined {
  const e = obj(obj(reported)?.error);
  if (!e) return undefined;
  return typeof e.message === 'string' ? e.message : typeof e.code === 'string' ? e.code : 'error';
}

const releaseOf = (value: unknown): number | undefined => {
  const n = obj(obj(value)?.manifest)?.release;
  return typeof n === 'number' ? n : undefined;
};

/** The device's word on its release, from its shadow's `desired.<p>` and `reported.<p>` (see ReleaseView). */
export function releaseView(desiredValue: unknown, reportedValue: unknown, inSync: boolean): ReleaseView | undefined {
  const desired = fileOf(desiredValue);
  const error = obj(obj(reportedValue)?.error);
  const code = typeof error?.code === 'string' ? error.code : undefined;
  const asked = releaseOf(desiredValue);
  const withRelease = (r: number | undefined) => (r !== undefined ? { release: r } : {});
  // A refusal of what is asked now (the agent reports the desired hash with it); RELEASE_UNSIGNED
  // of a value that is signed now was about the same bytes before their release arrived.
  const refusal = code !== undefined && (REFUSAL_CODES as readonly string[]).includes(code) && (!desired || error?.hash === desired.hash) && !(code === 'RELEASE_UNSIGNED' && asked !== undefined);
  if (refusal) return { state: 'refused', code, ...withRelease(asked) };
  const installed = releaseOf(reportedValue);
  if ((inSync || !desired) && installed !== undefined) return { state: 'verified', release: installed };
  if (!desired) return undefined;
  return asked !== undefined ? { state: 'signed', release: asked } : { state: 'unsigned' };
}

export class DashboardModel {
  readonly header: DashboardHeader;
  private plugView: PlugView;
  private readonly devices = new Map<string, DeviceView>();
  private readonly timeline: TimelineEntry[] = [];
  private readonly narration: FleetNarration;
  readonly plugShadows: PlugShadows;
  private readonly rollouts = new RolloutTracker();
  private readonly property: string;
  private readonly clock: () => number;
  private seq = 0;

  constructor(options: {
    header: DashboardHeader;
    things: string[];
    plug: PlugView;
    /** The sandbox's `plugs` list (SandboxInfo). */
    plugs?: PlugEntry[];
    property: string;
    clock?: () => number;
    cwd?: string;
  }) {
    this.header = options.header;
    this.plugView = options.plug;
    this.property = options.property;
    this.clock = options.clock ?? Date.now;
    const online = options.header.agents === 'in-process' ? true : undefined;
    for (const thing of options.things) this.devices.set(thing, { thing, inSync: true, ...(online !== undefined ? { online } : {}) });
    this.plugShadows = new PlugShadows(options.plugs ?? []);
    if (online !== undefined) for (const thing of options.things) this.plugShadows.setHubOnline(thing, online);
    this.narration = new FleetNarration({ devices: options.things.length, clock: this.clock, ...(options.cwd !== undefined ? { cwd: options.cwd } : {}) });
  }

  /** Replaces the plug's view; true when something a person would see changed. */
  setPlug(plug: PlugView): boolean {
    const strip = (p: PlugView) => JSON.stringify({ ...p, checkedAt: undefined });
    const changed = strip(plug) !== strip(this.plugView);
    this.plugView = plug;
    return changed;
  }

  /** The things whose view changed or whose shadow to read again, and the uploads, lines, plugs (a hub came or went) and roll-outs it moved on. */
  apply(event: SandboxEvent) {
    const changes = { devices: [] as string[], uploads: [] as UploadView[], timeline: [] as TimelineEntry[], reread: [] as string[], plugs: [] as PlugShadowView[], rollouts: [] as RolloutView[] };
    const rollout = this.rollouts.apply(event);
    if (rollout) changes.rollouts.push(rollout);
    const device = 'thing' in event ? this.devices.get(event.thing) : undefined;
    if (device) {
      switch (event.type) {
        case 'progress':
          device.progress = { bytes: event.bytes, ...(event.total !== undefined ? { total: event.total } : {}) };
          break;
        case 'installed':
          delete device.progress;
          delete device.lastError;
          break;
        case 'device-error':
          delete device.progress;
          device.lastError = event.message;
          break;
        case 'device-online':
          device.online = event.online;
          changes.plugs.push(...this.plugShadows.setHubOnline(event.thing, event.online));
          break;
        default:
          break;
      }
      changes.devices.push(device.thing);
      if (event.type !== 'progress' && event.type !== 'device-online') changes.reread.push(device.thing);
    }
    if (event.type === 'shadows-written') changes.reread.push(...event.things.filter((t) => this.devices.has(t)));
    const { lines, uploads } = this.narration.narrate(event);
    changes.uploads = uploads;
    for (const line of lines) changes.timeline.push(this.addTimeline(line.kind, line.text, line.error));
    return changes;
  }

  /** The thing's classic shadow as GetThingShadow returns it (undefined: none). True if the view changed. */
  applyShadow(thing: string, document: unknown): boolean {
    const device = this.devices.get(thing);
    if (!device) return false;
    const before = JSON.stringify(device);
    const state = obj(obj(document)?.state);
    const desired = fileOf(obj(state?.desired)?.[this.property]);
    const reportedValue = obj(state?.reported)?.[this.property];
    const reported = fileOf(reportedValue);
    const version = obj(document)?.version;
    if (desired) device.desired = desired;
    else delete device.desired;
    if (reported) device.reported = reported;
    else delete device.reported;
    if (typeof version === 'number') device.shadowVersion = version;
    else delete device.shadowVersion;
    // The same bytes under another key or version are not what was asked for.
    device.inSync = sameObjectNamed(this.property, state?.desired, state?.reported);
    if (device.inSync) delete device.progress;
    const release = releaseView(obj(state?.desired)?.[this.property], reportedValue, device.inSync);
    if (release) device.release = release;
    else delete device.release;
    const reportedError = errorOf(reportedValue);
    if (reportedError !== undefined) device.lastError = reportedError;
    else if (device.inSync) delete device.lastError;
    return JSON.stringify(device) !== before;
  }

  device(thing: string): DeviceView | undefined {
    return this.devices.get(thing);
  }

  fleet(): FleetSummary {
    const all = [...this.devices.values()];
    const count = (test: (d: DeviceView) => unknown) => all.filter(test).length;
    return {
      total: all.length,
      inSync: count((d) => d.inSync),
      ...(this.header.agents === 'in-process' ? { online: count((d) => d.online) } : {}),
      downloading: count((d) => d.progress),
      errors: count((d) => d.lastError !== undefined),
    };
  }

  snapshot(): Snapshot {
    return {
      header: this.header,
      plug: this.plugView,
      plugShadows: this.plugShadows.list(),
      devices: [...this.devices.values()],
      fleet: this.fleet(),
      uploads: this.narration.tracker.uploads(),
      rollouts: this.rollouts.list(),
      timeline: [...this.timeline],
    };
  }

  private addTimeline(kind: string, text: string, error: boolean): TimelineEntry {
    const entry: TimelineEntry = { seq: ++this.seq, time: this.clock(), kind, text, error };
    this.timeline.push(entry);
    if (this.timeline.length > TIMELINE_LENGTH) this.timeline.shift();
    return entry;
  }
}
