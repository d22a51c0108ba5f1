/** What the dashboard server sends the page: JSON shapes, shared with the page as types only. */

export interface EnergyView {
  powerW: number;
  voltageV?: number;
  currentA?: number;
  totalWh?: number;
}

export interface OutletView {
  id: string;
  index: number;
  alias: string;
  state: 0 | 1;
  energy?: EnergyView;
}

export interface PlugView {
  host: string;
  port: number;
  simulated: boolean;
  protocol: string;
  /** undefined until the first check. */
  online?: boolean;
  /** Why the last check failed (offline). */
  error?: string;
  model?: string;
  alias?: string;
  relayState?: 0 | 1;
  children?: OutletView[];
  /** false: the device has no energy meter (or did not answer for one). */
  metered: boolean;
  energy?: EnergyView;
  /** ISO time. */
  checkedAt?: string;
}

/** What the plug's shadow says it reported (relay mode), as the page shows it. */
export interface PlugReportedView {
  power?: 'on' | 'off';
  online?: boolean;
  model?: string;
  alias?: string;
  /** Plugs with a meter: the shadow's readings (total in kWh, as the contract names it). */
  energy?: { powerW?: number; voltageV?: number; currentA?: number; totalKwh?: number };
  /** Why the plug is offline. */
  error?: { code: string; message: string };
}

/** One plug of the sandbox as its shadow `plug-<id>` on its hub thing says (docs/plug-relay.md). */
export interface PlugShadowView {
  id: string;
  mode: 'relay' | 'direct';
  host: string;
  port: number;
  /** How the sandbox runs it, from its `plugs` entry: the simulated kind (`hs110`, `p110-klap`, …) or `real`, its protocol, a strip outlet. */
  kind?: string;
  protocol?: string;
  family?: string;
  outlet?: number | string;
  /** The hub thing and the shadow name; null in direct mode (no shadow: the button function uses TCP). */
  thing: string | null;
  shadowName: string | null;
  /** The hub's agent is connected (undefined: nobody knows, e.g. no in-process agents). */
  hubOnline?: boolean;
  exists: boolean;
  version?: number;
  desired?: { power?: string; requestId?: string; requestedAt?: number };
  reported?: PlugReportedView;
  lastRequest?: { requestId: string; outcome: string; error?: { code: string; message: string } };
  /** desired names a request that lastRequest has not answered yet. */
  pending: boolean;
  /** Epoch ms of the hub's last write to `reported` (from the shadow's metadata: whole seconds). */
  reportedAt?: number;
}

export interface FileView {
  key: string;
  url: string;
  hash: string;
  size?: number;
}

/** What a device made of the release it is asked for: installed (`verified`), not yet (`signed`), `unsigned`, or `refused` (its code). */
export interface ReleaseView {
  state: 'verified' | 'signed' | 'unsigned' | 'refused';
  /** The release number: installed (verified) or asked for. */
  release?: number;
  code?: string;
}

export interface DeviceView {
  thing: string;
  /** undefined: no agent runs in the sandbox for it (`--no-agents`), so nobody knows. */
  online?: boolean;
  desired?: FileView;
  reported?: FileView;
  /** reported hash equals desired hash (both absent counts: nothing to deliver). */
  inSync: boolean;
  progress?: { bytes: number; total?: number };
  lastError?: string;
  shadowVersion?: number;
  /** undefined: no file asked for or installed. */
  release?: ReleaseView;
}

export interface FleetSummary {
  total: number;
  inSync: number;
  /** undefined when no agents run in the sandbox. */
  online?: number;
  downloading: number;
  errors: number;
}

export type UploadStage = 'uploaded' | 'hashed' | 'shadows' | 'verified' | 'failed' | 'ignored';

export interface UploadView {
  id: number;
  key: string;
  url: string;
  size: number;
  hash?: string;
  stage: UploadStage;
  /** Shadows the object Lambda wrote (undefined until it has finished with the object). */
  targets?: number;
  shadows: number;
  verified: number;
  downloading: number;
  /** Devices whose last word about this file was an error. */
  errors: number;
  message?: string;
  startedAt: number;
  finishedAt?: number;
}

/** A roll-out (roll-out mode): one IoT Job for an upload, released in waves. */
export interface RolloutView {
  jobId: string;
  key: string;
  hash: string;
  targets: number;
  status: 'IN_PROGRESS' | 'COMPLETED' | 'CANCELED';
  /** Minute of the roll-out and how many devices it notified. */
  waves: { minute: number; count: number }[];
  succeeded: number;
  failed: number;
  inProgress: number;
  queued: number;
  notNotified: number;
  /** Why it was canceled (the abort rule that fired). */
  reason?: string;
  failures: { thing: string; code?: string }[];
}

export interface TimelineEntry {
  seq: number;
  time: number;
  kind: string;
  text: string;
  error: boolean;
}

export interface DashboardHeader {
  bucket: string;
  buttonSerial: string;
  buttonTopic: string;
  agents: 'in-process' | 'none';
}

export interface Snapshot {
  header: DashboardHeader;
  plug: PlugView;
  plugShadows: PlugShadowView[];
  devices: DeviceView[];
  fleet: FleetSummary;
  uploads: UploadView[];
  /** Roll-out mode only (empty otherwise). */
  rollouts: RolloutView[];
  timeline: TimelineEntry[];
}

export type ServerMessage =
  | { kind: 'snapshot'; snapshot: Snapshot }
  | { kind: 'plug'; plug: PlugView }
  | { kind: 'plug-shadow'; plug: PlugShadowView }
  | { kind: 'devices'; devices: DeviceView[]; fleet: FleetSummary }
  | { kind: 'upload'; upload: UploadView }
  | { kind: 'rollout'; rollout: RolloutView }
  | { kind: 'timeline'; entries: TimelineEntry[] }
  | { kind: 'shadow'; thing: string; version?: number };

export interface ShadowResponse {
  thing: string;
  version?: number;
  document?: unknown;
}

export type ClickTypeName = 'SINGLE' | 'DOUBLE' | 'LONG';
