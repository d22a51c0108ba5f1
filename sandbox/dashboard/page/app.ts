/**
 * The dashboard page. Plain DOM, no framework: seven panels that update in place from one
 * server-sent event stream, which is little enough code that a framework would only add a build
 * step and a dependency to an offline page. Elements are created once and then updated (so focus
 * and screen-reader position survive updates); the device table shows one page of rows at a time,
 * so the DOM stays the same size for 2 devices or 1000.
 */
import { energyText as shadowEnergyText, kindText, lastReportText, onlineText, plugLabel, powerText, requestLine, shortId } from '../plug-format';
import type {
  ClickTypeName,
  DeviceView,
  FileView,
  FleetSummary,
  PlugShadowView,
  PlugView,
  ReleaseView,
  ServerMessage,
  ShadowResponse,
  Snapshot,
  TimelineEntry,
  RolloutView,
  UploadView,
} from '../view';

const ROWS_PER_PAGE = 50;
const TIMELINE_SHOWN = 200;
const UPLOADS_SHOWN = 5;

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'className') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

const short = (hash: string) => hash.slice(0, 12);
function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
const onOff = (s: 0 | 1 | undefined) => (s === 1 ? 'ON' : 'OFF');
/** 24-hour local time with milliseconds, as the terminal prints it. */
function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

// ---------------------------------------------------------------- state
const state = {
  devices: new Map<string, DeviceView>(),
  order: [] as string[],
  page: 0,
  myUploadKey: undefined as string | undefined,
};

// ---------------------------------------------------------------- announcements
function say(region: HTMLElement, text: string): void {
  // Cleared first so the same sentence twice is still read twice.
  region.textContent = '';
  setTimeout(() => (region.textContent = text), 50);
}
const [announcer, alerter] = [$('announce'), $('alert')];
const announce = (text: string) => say(announcer, text);
const alertUser = (text: string) => say(alerter, text);

async function postJson(path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const value = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new Error(typeof value.error === 'string' ? value.error : `${res.status} ${res.statusText}`);
  return value;
}

// ---------------------------------------------------------------- plug
const plugBox = $('plug');
let plugParts:
  | { name: HTMLElement; status: HTMLElement; relay: HTMLElement; toggle: HTMLButtonElement; facts: HTMLDListElement; outlets: HTMLUListElement; error: HTMLElement }
  | undefined;
let lastPlug: PlugView | undefined;

function buildPlug(): NonNullable<typeof plugParts> {
  const name = el('strong', { className: 'plug-name' });
  const status = el('span', { className: 'badge' });
  const relay = el('span', { className: 'plug-state' });
  // The name says what a press will do ("Turn … off"); no aria-pressed on top, which would say it twice.
  const toggle = el('button', { type: 'button', id: 'plug-toggle', className: 'primary' });
  toggle.addEventListener('click', () => void togglePlug(undefined, toggle));
  const facts = el('dl', { className: 'facts' });
  const outlets = el('ul', { className: 'outlets', 'aria-label': 'Outlets' });
  const error = el('p', { className: 'err' });
  plugBox.replaceChildren(el('div', { className: 'plug-head' }, relay, name, status), toggle, outlets, facts, error);
  return { name, status, relay, toggle, facts, outlets, error };
}

function energyText(e: PlugView['energy']): string {
  if (!e) return '';
  const parts = [`${e.powerW.toFixed(1)} W`];
  if (e.voltageV !== undefined) parts.push(`${e.voltageV.toFixed(1)} V`);
  if (e.currentA !== undefined) parts.push(`${e.currentA.toFixed(2)} A`);
  if (e.totalWh !== undefined) parts.push(`${(e.totalWh / 1000).toFixed(2)} kWh`);
  return parts.join(' · ');
}

function renderPlug(p: PlugView): void {
  const parts = (plugParts ??= buildPlug());
  const name = p.alias ?? 'the plug';
  parts.name.textContent = name;
  parts.status.textContent = p.online === undefined ? 'checking' : p.online ? 'online' : 'offline';
  parts.status.className = `badge ${p.online === false ? 'offline' : p.online ? 'online' : 'pending'}`;
  parts.status.id = 'plug-online';
  const single = p.children === undefined;
  parts.relay.textContent = p.online === false ? '—' : single ? onOff(p.relayState) : `${p.children!.filter((c) => c.state === 1).length}/${p.children!.length} on`;
  parts.relay.id = 'plug-state';
  parts.toggle.hidden = !single;
  parts.toggle.disabled = p.online !== true;
  parts.toggle.textContent = p.relayState === 1 ? `Turn ${name} off` : `Turn ${name} on`;
  if (single) parts.outlets.replaceChildren();
  else renderOutlets(parts.outlets, p);
  const facts: [string, string][] = [
    ['Model', p.model ?? '—'],
    ['Protocol', p.protocol],
    ['Address', `${p.host}:${p.port}${p.simulated ? ' (simulated)' : ''}`],
    ['Energy', p.metered ? (single ? energyText(p.energy) : 'per outlet') : 'not metered'],
  ];
  parts.facts.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]));
  parts.error.textContent = p.online === false && p.error ? `Not answering: ${p.error}` : '';

  if (lastPlug && lastPlug.online !== p.online && p.online !== undefined) {
    if (p.online) announce(`${name} is online`);
    else alertUser(`${name} is offline${p.error ? `: ${p.error}` : ''}`);
  } else if (lastPlug?.online && p.online && single && lastPlug.relayState !== p.relayState) {
    announce(`${name} is now ${onOff(p.relayState)}`);
  }
  lastPlug = p;
}

function renderOutlets(list: HTMLUListElement, p: PlugView): void {
  const children = p.children ?? [];
  if (list.children.length !== children.length) {
    list.replaceChildren(
      ...children.map((c) => {
        const b = el('button', { type: 'button' });
        b.addEventListener('click', () => void togglePlug(c.index, b));
        return el('li', {}, el('span', { className: 'badge' }), el('span', { className: 'outlet-name' }), b, el('span', { className: 'muted' }));
      }),
    );
  }
  children.forEach((c, i) => {
    const li = list.children[i] as HTMLLIElement;
    const [badge, name, button, energy] = [...li.children] as [HTMLElement, HTMLElement, HTMLButtonElement, HTMLElement];
    badge.textContent = onOff(c.state);
    badge.className = `badge ${c.state === 1 ? 'on' : 'off'}`;
    name.textContent = c.alias;
    button.textContent = c.state === 1 ? 'Turn off' : 'Turn on';
    button.setAttribute('aria-label', `Turn ${c.alias} ${c.state === 1 ? 'off' : 'on'}`);
    button.classList.toggle('primary', c.state === 1);
    button.disabled = p.online !== true;
    energy.textContent = energyText(c.energy);
  });
}

async function togglePlug(child: number | undefined, button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  try {
    const { plug } = (await postJson('/api/plug/toggle', child === undefined ? {} : { child })) as { plug: PlugView };
    renderPlug(plug);
  } catch (err) {
    alertUser(`Could not switch the plug: ${(err as Error).message}`);
  } finally {
    button.disabled = lastPlug?.online !== true;
  }
}

// ---------------------------------------------------------------- plug shadows
const plugShadowsBox = $('plug-shadows');
const plugShadowsSummary = $('plug-shadows-summary');
interface PlugCard {
  root: HTMLElement;
  name: HTMLElement;
  online: HTMLElement;
  request: HTMLElement;
  facts: Record<'hub' | 'desired' | 'reported' | 'model' | 'kind' | 'energy' | 'report' | 'address', HTMLElement>;
  error: HTMLElement;
}
const plugCards = new Map<string, PlugCard>();
const plugShadows = new Map<string, PlugShadowView>();

function buildPlugCard(p: PlugShadowView): PlugCard {
  const name = el('span', { className: 'name' });
  const online = el('span', { className: 'badge', 'data-field': 'online' });
  const request = el('p', { className: 'request', 'data-field': 'request' });
  const labels = { hub: 'Hub · shadow', desired: 'Desired', reported: 'Reported', model: 'Model', kind: 'Runs as', energy: 'Energy', report: 'Last report', address: 'Address' } as const;
  const facts = {} as PlugCard['facts'];
  const dl = el('dl', { className: 'facts' });
  for (const [key, label] of Object.entries(labels) as [keyof PlugCard['facts'], string][]) {
    facts[key] = el('dd', { 'data-field': key });
    dl.append(el('dt', { text: label }), facts[key]);
  }
  const error = el('p', { className: 'err', 'data-field': 'error' });
  const heading = el('h3', { id: `plug-shadow-${p.id}-h` }, name, el('span', { className: 'muted mono', text: p.id }), online);
  const root = el('article', { className: 'plug-shadow', 'data-plug': p.id, 'aria-labelledby': heading.id }, heading, request, dl, error);
  return { root, name, online, request, facts, error };
}

/** Fills the card from the view; `now` for the times (re-run every second). */
function fillPlugCard(card: PlugCard, p: PlugShadowView, now: number): void {
  const line = requestLine(p, now);
  const on = onlineText(p);
  card.root.dataset.request = line.state;
  card.root.dataset.online = on.state;
  card.name.textContent = plugLabel(p);
  card.online.textContent = on.state === 'unknown' ? 'not reported' : on.state;
  card.online.className = `badge ${on.state === 'online' ? 'online' : on.state === 'offline' ? 'offline' : 'pending'}`;
  card.request.textContent = line.text;
  card.request.dataset.state = line.state;
  const hub = p.thing === null ? 'none (direct mode)' : `${p.thing} · ${p.shadowName ?? ''}${p.hubOnline === undefined ? '' : p.hubOnline ? ' (hub online)' : ' (hub OFFLINE)'}`;
  card.facts.hub.textContent = hub;
  card.facts.desired.textContent = p.desired?.requestId !== undefined ? `${powerText(p.desired.power)} · request ${shortId(p.desired.requestId)}` : '—';
  card.facts.reported.textContent = p.reported ? `${powerText(p.reported.power)}${p.reported.online === undefined ? '' : ` · online: ${String(p.reported.online)}`}` : '—';
  card.facts.model.textContent = p.reported?.model ?? '—';
  card.facts.kind.textContent = kindText(p) || '—';
  card.facts.energy.textContent = p.reported?.energy ? shadowEnergyText(p.reported.energy) : 'no meter';
  card.facts.report.textContent = lastReportText(p, now);
  card.facts.address.textContent = `${p.host}:${p.port}`;
  card.error.textContent = on.state === 'offline' ? `Plug not reachable by its hub${on.reason ? `: ${on.reason}` : ''}` : '';
}

function renderPlugShadow(p: PlugShadowView, announceChanges = true): void {
  const before = plugShadows.get(p.id);
  plugShadows.set(p.id, p);
  let card = plugCards.get(p.id);
  if (!card) {
    card = buildPlugCard(p);
    plugCards.set(p.id, card);
    if (plugCards.size === 1) plugShadowsBox.replaceChildren();
    plugShadowsBox.append(card.root);
  }
  fillPlugCard(card, p, Date.now());
  renderPlugShadowsSummary();
  if (!announceChanges || !before) return;
  const label = plugLabel(p);
  const line = requestLine(p, Date.now());
  const answered = p.lastRequest && (before.lastRequest?.requestId !== p.lastRequest.requestId || before.lastRequest.outcome !== p.lastRequest.outcome);
  if (answered && line.state === 'applied') announce(`${label}: ${line.text}`);
  else if (answered && (line.state === 'failed' || line.state === 'expired')) alertUser(`${label}: request ${line.text}`);
  else if (before.reported?.online !== false && p.reported?.online === false) alertUser(`${label} is offline${onlineText(p).reason ? `: ${onlineText(p).reason}` : ''}`);
}

function renderPlugShadowsSummary(): void {
  const all = [...plugShadows.values()];
  const online = all.filter((p) => p.reported?.online === true).length;
  const pending = all.filter((p) => p.pending).length;
  plugShadowsSummary.textContent = `— ${online}/${all.length} online${pending ? ` · ${pending} pending` : ''}`;
}

function applyPlugShadows(list: PlugShadowView[]): void {
  plugCards.clear();
  plugShadows.clear();
  plugShadowsBox.replaceChildren(el('p', { className: 'muted', text: 'no plugs in this sandbox' }));
  plugShadowsSummary.textContent = '';
  for (const p of list) renderPlugShadow(p, false);
}

// "reported 3 s ago" and "asked 12 s ago" move on without a message from the server.
setInterval(() => {
  const now = Date.now();
  for (const [id, card] of plugCards) fillPlugCard(card, plugShadows.get(id)!, now);
}, 1000);

// ---------------------------------------------------------------- button
const clickResult = $('click-result');
for (const button of document.querySelectorAll<HTMLButtonElement>('button[data-click]')) {
  button.addEventListener('click', async () => {
    const type = button.dataset.click as ClickTypeName;
    button.disabled = true;
    try {
      const { summary } = (await postJson('/api/button', { type })) as { summary: string };
      clickResult.textContent = summary;
      announce(`${button.textContent}: ${summary}`);
    } catch (err) {
      clickResult.textContent = `Failed: ${(err as Error).message}`;
      alertUser(`The click was not published: ${(err as Error).message}`);
    } finally {
      button.disabled = false;
    }
  });
}

// ---------------------------------------------------------------- upload
const fileInput = $<HTMLInputElement>('file');
const targetSelect = $<HTMLSelectElement>('target');
const drop = $('drop');
const myUpload = $('my-upload');
const uploadButton = $<HTMLButtonElement>('upload-button');

drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer?.files.length) {
    fileInput.files = e.dataTransfer.files;
    announce(`${e.dataTransfer.files[0]!.name} chosen`);
  }
});

$<HTMLFormElement>('upload-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const file = fileInput.files?.[0];
  if (!file) {
    alertUser('Choose a file first');
    fileInput.focus();
    return;
  }
  uploadFile(file, targetSelect.value);
});

function uploadFile(file: File, thing: string): void {
  const bar = el('progress', { max: String(file.size || 1), value: '0', 'aria-label': `Uploading ${file.name}` });
  const line = el('span', { text: `Uploading ${file.name} (${size(file.size)}) to ${thing || 'all devices'}… ` });
  myUpload.replaceChildren(line, bar);
  uploadButton.disabled = true;
  // XMLHttpRequest rather than fetch: only it reports upload progress.
  const xhr = new XMLHttpRequest();
  xhr.open('POST', `/api/upload?${new URLSearchParams({ name: file.name, thing })}`);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.upload.addEventListener('progress', (p) => (bar.value = p.loaded));
  xhr.addEventListener('loadend', () => {
    uploadButton.disabled = false;
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(xhr.responseText) as Record<string, unknown>;
    } catch {
      // an answer that is not JSON: reported below by its status
    }
    if (xhr.status === 200) {
      state.myUploadKey = String(body.key);
      myUpload.replaceChildren(el('span', { text: `Stored ${String(body.url)} as signed release ${String(body.release)}, sha256 ${short(String(body.sha256))}… — following it below.` }));
      announce(`${file.name} uploaded; waiting for the devices`);
    } else {
      const why = typeof body.error === 'string' ? body.error : `status ${xhr.status || 'none (connection lost)'}`;
      myUpload.replaceChildren(el('span', { className: 'err', text: `Upload failed: ${why}` }));
      alertUser(`Upload of ${file.name} failed: ${why}`);
    }
  });
  xhr.send(file);
}

const uploadList = $('uploads');
const uploads = new Map<number, UploadView>();

function renderUploads(): void {
  const recent = [...uploads.values()].sort((a, b) => b.id - a.id).slice(0, UPLOADS_SHOWN);
  if (recent.length === 0) return;
  uploadList.replaceChildren(...recent.map(uploadItem));
}

function uploadItem(u: UploadView): HTMLLIElement {
  const of = u.targets ?? u.shadows;
  const hashed = u.hash !== undefined;
  const failed = u.stage === 'failed' || u.stage === 'ignored';
  const step = (done: boolean, text: string, bad = false) => el('li', { className: bad ? 'failed' : done ? 'done' : '' }, text);
  const verified = el('progress', { max: String(Math.max(of, 1)), value: String(u.verified), 'aria-label': `${u.key}: devices verified` });
  const steps = el(
    'ol',
    { className: 'steps', 'aria-label': `Progress of ${u.key}` },
    step(true, `Uploaded ${size(u.size)}`),
    step(hashed, hashed ? `Hashed sha256 ${short(u.hash!)}…` : 'Hash', failed && !hashed),
    step(u.shadows > 0, `Shadows ${u.shadows}${u.targets !== undefined ? `/${u.targets}` : ''} desired`),
    el('li', { className: u.stage === 'verified' ? 'done' : '' }, `Verified ${u.verified}/${of} `, verified, u.errors ? ` ${u.errors} with errors` : ''),
  );
  const seconds = u.finishedAt !== undefined ? ` in ${((u.finishedAt - u.startedAt) / 1000).toFixed(2)} s` : '';
  return el(
    'li',
    { 'data-stage': u.stage, 'data-key': u.key },
    el('strong', { className: 'mono', text: u.url }),
    el('span', { className: `badge ${u.stage === 'verified' ? 'sync' : failed ? 'error' : 'pending'}`, text: ` ${u.stage}${seconds}` }),
    steps,
    ...(u.message ? [el('p', { className: failed ? 'err' : 'muted', text: u.message })] : []),
  );
}

function onUpload(u: UploadView): void {
  const before = uploads.get(u.id);
  uploads.set(u.id, u);
  while (uploads.size > 20) uploads.delete(Math.min(...uploads.keys()));
  renderUploads();
  if (before?.stage !== u.stage && u.key === state.myUploadKey) {
    if (u.stage === 'verified') announce(`${u.key} verified on ${u.verified} of ${u.targets ?? u.shadows} devices`);
    if (u.stage === 'failed' || u.stage === 'ignored') alertUser(`${u.key}: ${u.stage}${u.message ? `: ${u.message}` : ''}`);
  }
}

// ---------------------------------------------------------------- roll-outs
const rolloutList = $('rollouts');
const rollouts = new Map<string, RolloutView>();

function renderRollouts(): void {
  const shown = [...rollouts.values()].reverse();
  rolloutList.hidden = shown.length === 0;
  $('rollouts-h').hidden = shown.length === 0;
  rolloutList.replaceChildren(...shown.map(rolloutItem));
}

function rolloutItem(r: RolloutView): HTMLLIElement {
  const badge = r.status === 'COMPLETED' ? 'sync' : r.status === 'CANCELED' ? 'error' : 'pending';
  const waves = r.waves.map((w) => `minute ${w.minute}: ${w.count}`).join(' · ');
  const done = el('progress', { max: String(Math.max(r.targets, 1)), value: String(r.succeeded), 'aria-label': `${r.key}: devices succeeded` });
  return el(
    'li',
    { 'data-status': r.status, 'data-job': r.jobId },
    el('strong', { className: 'mono', text: `${r.key} → job ${r.jobId}` }),
    el('span', { className: `badge ${badge}`, text: ` ${r.status === 'CANCELED' ? 'aborted' : r.status.toLowerCase().replace('_', ' ')}` }),
    el('p', { className: 'muted', text: `Waves: ${waves || 'none yet'}` }),
    el('p', {}, done, ` ${r.succeeded} succeeded, ${r.failed} failed, ${r.inProgress} in progress, ${r.queued} queued, ${r.notNotified} not notified (of ${r.targets})`),
    ...(r.reason ? [el('p', { className: 'err', text: `Aborted: ${r.reason}` })] : []),
    ...(r.failures.length ? [el('p', { className: 'err', text: `Failed: ${r.failures.slice(0, 10).map((f) => `${f.thing}${f.code ? ` ${f.code}` : ''}`).join(', ')}${r.failures.length > 10 ? ', …' : ''}` })] : []),
  );
}

function onRollout(r: RolloutView): void {
  const before = rollouts.get(r.jobId);
  rollouts.set(r.jobId, r);
  renderRollouts();
  if (before?.status !== r.status && r.status !== 'IN_PROGRESS') announce(`Roll-out of ${r.key} ${r.status === 'COMPLETED' ? 'completed' : `aborted: ${r.reason ?? ''}`}`);
}

// ---------------------------------------------------------------- devices
const rows = $('device-rows');
const filterSelect = $<HTMLSelectElement>('device-filter');
const search = $<HTMLInputElement>('device-search');
const pageInfo = $('page-info');
const prev = $<HTMLButtonElement>('prev-page');
const next = $<HTMLButtonElement>('next-page');

function fileCell(f: FileView | undefined): string {
  return f ? `${f.key} · ${short(f.hash)}… · ${size(f.size)}` : '—';
}

function visibleDevices(): DeviceView[] {
  const filter = filterSelect.value;
  const text = search.value.trim().toLowerCase();
  return state.order
    .map((t) => state.devices.get(t)!)
    .filter((d) => (text === '' || d.thing.toLowerCase().includes(text)))
    .filter((d) => filter === 'all' || (filter === 'out' && !d.inSync) || (filter === 'errors' && d.lastError !== undefined) || (filter === 'offline' && d.online === false));
}

let renderQueued = false;
function queueDevices(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderDevices();
  });
}

function buildRow(): HTMLTableRowElement {
  const showShadow = el('button', { type: 'button', className: 'link' });
  showShadow.addEventListener('click', () => {
    const thing = showShadow.dataset.thing!;
    shadowSelect.value = thing;
    void loadShadow(thing);
    $('shadow-doc').focus();
  });
  return el('tr', {}, el('th', { scope: 'row', className: 'mono' }), el('td'), el('td', { className: 'mono' }), el('td', { className: 'mono' }), el('td', { 'data-field': 'release' }), el('td'), el('td', { className: 'err' }), el('td', {}, showShadow));
}

function renderDevices(): void {
  const list = visibleDevices();
  const pages = Math.max(1, Math.ceil(list.length / ROWS_PER_PAGE));
  state.page = Math.min(state.page, pages - 1);
  const slice = list.slice(state.page * ROWS_PER_PAGE, (state.page + 1) * ROWS_PER_PAGE);
  while (rows.children.length < slice.length) rows.append(buildRow());
  while (rows.children.length > slice.length) rows.lastElementChild!.remove();
  slice.forEach((d, i) => fillRow(rows.children[i] as HTMLTableRowElement, d));
  pageInfo.textContent = list.length === 0 ? 'no devices match' : `${state.page * ROWS_PER_PAGE + 1}–${state.page * ROWS_PER_PAGE + slice.length} of ${list.length}`;
  prev.disabled = state.page === 0;
  next.disabled = state.page >= pages - 1;
}

function fillRow(tr: HTMLTableRowElement, d: DeviceView): void {
  const [name, status, desired, reported, release, download, error, shadow] = [...tr.children] as HTMLElement[];
  tr.dataset.thing = d.thing;
  name!.textContent = d.thing;
  const online = d.online === undefined ? '' : d.online ? 'online' : 'offline';
  const sync = d.inSync ? 'in sync' : d.progress ? 'downloading' : 'pending';
  status!.replaceChildren(
    ...(online ? [el('span', { className: `badge ${online}`, text: online }), ' '] : []),
    el('span', { className: `badge ${d.inSync ? 'sync' : d.lastError ? 'error' : 'pending'}`, text: sync }),
  );
  desired!.textContent = fileCell(d.desired);
  reported!.textContent = fileCell(d.reported);
  fillRelease(release!, d.release);
  if (d.progress) {
    const total = d.progress.total ?? d.desired?.size;
    const label = total ? `${Math.floor((d.progress.bytes / total) * 100)}% of ${size(total)}` : size(d.progress.bytes);
    let bar = download!.querySelector('progress');
    if (!bar) download!.replaceChildren((bar = el('progress', { 'aria-label': `${d.thing} download` })), el('span'));
    if (total) bar.max = total;
    bar.value = d.progress.bytes;
    (download!.lastElementChild as HTMLElement).textContent = ` ${label}`;
  } else {
    download!.textContent = d.inSync && d.reported ? 'done' : '';
  }
  error!.textContent = d.lastError ?? '';
  const button = shadow!.firstElementChild as HTMLButtonElement;
  button.dataset.thing = d.thing;
  button.textContent = d.shadowVersion !== undefined ? `v${d.shadowVersion}` : 'none';
  button.setAttribute('aria-label', `Show the shadow of ${d.thing}${d.shadowVersion !== undefined ? ` (version ${d.shadowVersion})` : ''}`);
}

/** Signed and verified (its release), signed but not installed yet, unsigned, or the device's refusal code. */
function fillRelease(cell: HTMLElement, r: ReleaseView | undefined): void {
  cell.dataset.state = r?.state ?? 'none';
  if (!r) {
    cell.textContent = '—';
    return;
  }
  const n = r.release !== undefined ? ` release ${r.release}` : '';
  const text = { verified: `signed · verified${n}`, signed: `signed${n} · not installed yet`, unsigned: 'unsigned', refused: `refused: ${r.code ?? '?'}${n ? ` (${n.trim()})` : ''}` }[r.state];
  const badge = { verified: 'sync', signed: 'pending', unsigned: 'error', refused: 'error' }[r.state];
  cell.replaceChildren(el('span', { className: `badge ${badge}`, text }));
}

function renderFleet(f: FleetSummary): void {
  const parts = [`${f.inSync}/${f.total} in sync`];
  if (f.online !== undefined) parts.push(`${f.online}/${f.total} online`);
  if (f.downloading) parts.push(`${f.downloading} downloading`);
  if (f.errors) parts.push(`${f.errors} with errors`);
  $('fleet-summary').textContent = `— ${parts.join(' · ')}`;
}

filterSelect.addEventListener('change', () => ((state.page = 0), renderDevices()));
search.addEventListener('input', () => ((state.page = 0), renderDevices()));
prev.addEventListener('click', () => ((state.page = Math.max(0, state.page - 1)), renderDevices()));
next.addEventListener('click', () => ((state.page += 1), renderDevices()));

// ---------------------------------------------------------------- shadows
const shadowSelect = $<HTMLSelectElement>('shadow-thing');
const shadowDoc = $('shadow-doc');
const shadowVersion = $('shadow-version');
let shownVersion: number | undefined;

async function loadShadow(thing: string): Promise<void> {
  if (!thing) return;
  try {
    const res = await fetch(`/api/shadow?${new URLSearchParams({ thing })}`);
    const body = (await res.json()) as ShadowResponse & { error?: string };
    if (!res.ok) throw new Error(body.error ?? `status ${res.status}`);
    if (shadowSelect.value !== thing) return;
    shownVersion = body.version;
    shadowVersion.textContent = body.document ? `${thing}: version ${body.version ?? '?'}` : `${thing} has no shadow yet`;
    shadowDoc.textContent = body.document ? JSON.stringify(body.document, null, 2) : '';
  } catch (err) {
    shadowVersion.textContent = `Could not read the shadow of ${thing}: ${(err as Error).message}`;
  }
}
shadowSelect.addEventListener('change', () => void loadShadow(shadowSelect.value));

// ---------------------------------------------------------------- timeline
const timeline = $('timeline');
function addTimeline(entries: TimelineEntry[]): void {
  const items = entries.map((e) =>
    el('li', { className: e.error ? 'error' : '' }, el('time', { datetime: new Date(e.time).toISOString(), text: clockTime(e.time) }), el('span', { className: 'text', text: e.text })),
  );
  timeline.prepend(...items.reverse());
  while (timeline.children.length > TIMELINE_SHOWN) timeline.lastElementChild!.remove();
}

// ---------------------------------------------------------------- the stream
function applySnapshot(s: Snapshot): void {
  $('button-topic').textContent = s.header.buttonTopic;
  state.devices = new Map(s.devices.map((d) => [d.thing, d]));
  state.order = s.devices.map((d) => d.thing);
  if (targetSelect.options.length !== state.order.length + 1) {
    targetSelect.replaceChildren(el('option', { value: '', text: `All devices (${state.order.length})` }), ...state.order.map((t) => el('option', { value: t, text: t })));
    const keep = shadowSelect.value;
    shadowSelect.replaceChildren(...state.order.map((t) => el('option', { value: t, text: t })));
    if (keep) shadowSelect.value = keep;
  }
  renderPlug(s.plug);
  applyPlugShadows(s.plugShadows);
  renderFleet(s.fleet);
  renderDevices();
  uploads.clear();
  s.uploads.forEach((u) => uploads.set(u.id, u));
  renderUploads();
  rollouts.clear();
  s.rollouts.forEach((r) => rollouts.set(r.jobId, r));
  renderRollouts();
  timeline.replaceChildren();
  addTimeline(s.timeline);
  void loadShadow(shadowSelect.value);
}

const HANDLERS: { [K in ServerMessage['kind']]: (m: Extract<ServerMessage, { kind: K }>) => void } = {
  snapshot: (m) => applySnapshot(m.snapshot),
  plug: (m) => renderPlug(m.plug),
  'plug-shadow': (m) => renderPlugShadow(m.plug),
  devices: (m) => {
    for (const d of m.devices) {
      state.devices.set(d.thing, d);
      if (d.thing === shadowSelect.value && d.shadowVersion !== shownVersion) void loadShadow(d.thing);
    }
    renderFleet(m.fleet);
    queueDevices();
  },
  upload: (m) => onUpload(m.upload),
  rollout: (m) => onRollout(m.rollout),
  timeline: (m) => addTimeline(m.entries),
  shadow: () => undefined,
};

const connection = $('connection');
function connect(): void {
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.dataset.state = 'live';
  });
  source.addEventListener('message', (e: MessageEvent<string>) => {
    const m = JSON.parse(e.data) as ServerMessage;
    (HANDLERS[m.kind] as (m: ServerMessage) => void)(m);
  });
  source.addEventListener('error', () => {
    // EventSource reconnects by itself; a fresh snapshot follows when it does.
    connection.textContent = source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…';
    connection.dataset.state = 'lost';
  });
}
connect();
