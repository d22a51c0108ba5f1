/**
 * The dashboard's plug shadows in a real browser (Chromium through playwright-core) against a
 * real sandbox in relay mode: a click's way desired → applied as the page shows it, checked
 * against the shadow and the plug over TCP; a plug that stops answering; an alias with HTML in it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Plug } from '../../core/tplink/plug';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox';
import { startSimulatedPlug, type SimulatedPlug } from '../../sandbox/simulated-plug';
import { launchChromium, watchErrors } from '../helpers/browser';
import { publishClick, waitFor } from '../helpers/sandbox-harness';

/** What the page showed of one plug card, each time it changed. */
interface CardState {
  request?: string;
  online?: string;
  requestText: string;
  desired: string;
  reported: string;
}

/** The few browser types the in-page recorder uses (the tests' tsconfig has no DOM library). */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  querySelector(selector: string): PageElement | null;
}
interface PageGlobals {
  document: { querySelector(selector: string): PageElement | null; getElementById(id: string): PageElement | null };
  MutationObserver: new (callback: () => void) => { observe(target: PageElement, options: Record<string, boolean>): void };
  cardStates: CardState[];
  said: string[];
}

/** Starts recording the card's states in the page (a MutationObserver: every rendered state, not samples). */
async function recordCard(page: Page, plugId: string): Promise<void> {
  await page.evaluate((id) => {
    const g = globalThis as unknown as PageGlobals;
    const { document, MutationObserver } = g;
    const card = document.querySelector(`[data-plug="${id}"]`)!;
    const field = (name: string) => card.querySelector(`[data-field="${name}"]`)?.textContent ?? '';
    const seen: CardState[] = [];
    g.cardStates = seen;
    const take = () => {
      const state = { request: card.dataset.request, online: card.dataset.online, requestText: field('request'), desired: field('desired'), reported: field('reported') };
      const last = seen[seen.length - 1];
      if (!last || JSON.stringify(last) !== JSON.stringify(state)) seen.push(state);
    };
    take();
    new MutationObserver(take).observe(card, { attributes: true, childList: true, characterData: true, subtree: true });
    // What screen readers were told (the regions are rewritten by every announcement, so keep each).
    const said: string[] = [];
    g.said = said;
    for (const region of [document.getElementById('announce')!, document.getElementById('alert')!]) {
      new MutationObserver(() => region.textContent && said.push(region.textContent)).observe(region, { childList: true, characterData: true, subtree: true });
    }
  }, plugId);
}

function cardStates(page: Page): Promise<CardState[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).cardStates);
}

/** Waits until the page has announced (or alerted) a text containing `text`. */
async function waitForSaid(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (globalThis as unknown as PageGlobals).said.some((s) => s.includes(t)), text);
}

async function relayOverTcp(host: string, port: number): Promise<number | undefined> {
  const plug = new Plug({ host, port });
  try {
    return (await plug.status()).relayState;
  } finally {
    await plug.close();
  }
}

describe('sandbox dashboard: plug shadows in a browser', () => {
  let browser: Browser;
  const open: { sandbox: Sandbox; dir: string }[] = [];
  const plugs: SimulatedPlug[] = [];
  let page: Page | undefined;
  let errors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    page = undefined;
    for (const { sandbox, dir } of open.splice(0)) {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
    for (const plug of plugs.splice(0)) await plug.close();
  });

  async function start(options: SandboxOptions = {}): Promise<Sandbox> {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-dashboard-plugs-'));
    const sandbox = await startSandbox({ dir, dashboard: true, writeInfoFile: false, ...options });
    open.push({ sandbox, dir });
    return sandbox;
  }

  /** A simulated plug of the test's own (so the test can stop it), on a free port of 127.0.0.1. */
  async function ownPlug(alias?: string): Promise<SimulatedPlug> {
    const plug = await startSimulatedPlug(alias !== undefined ? { alias } : {});
    plugs.push(plug);
    return plug;
  }

  async function openDashboard(sandbox: Sandbox): Promise<Page> {
    page = await browser.newPage();
    errors = watchErrors(page);
    await page.goto(sandbox.info.dashboard!);
    await page.locator('#connection[data-state="live"]').waitFor();
    return page;
  }

  it('shows every plug of the sandbox with its hub thing and shadow name, and a click going desired → applied with the new power', async () => {
    const sandbox = await start();
    const [entry] = sandbox.info.plugs!;
    expect(entry).toMatchObject({ id: 'lamp', mode: 'relay', shadowName: 'plug-lamp' });
    const p = await openDashboard(sandbox);
    expect(await p.locator('[data-plug]').count()).toBe(sandbox.info.plugs!.length);
    const card = p.locator('[data-plug="lamp"]');
    await card.locator('[data-field="hub"]', { hasText: `${entry!.thing} · plug-lamp (hub online)` }).waitFor();
    // The hub polls the plug when it connects: its first report (OFF, online, model).
    await p.locator('[data-plug="lamp"][data-online="online"]').waitFor();
    await card.locator('[data-field="reported"]', { hasText: 'OFF · online: true' }).waitFor();
    await card.locator('[data-field="model"]', { hasText: /^HS100/ }).waitFor();
    await card.locator('[data-field="report"]', { hasText: /^reported / }).waitFor();
    await recordCard(p, 'lamp');

    // The page's IoT button publishes a real click (MQTT/TLS, the button Lambda, the relay path).
    await p.getByRole('button', { name: 'Single press' }).click();
    await p.locator('[data-plug="lamp"][data-request="applied"]').waitFor();
    await card.locator('[data-field="request"]', { hasText: /^applied: ON \(/ }).waitFor();
    await card.locator('[data-field="reported"]', { hasText: 'ON · online: true' }).waitFor();
    expect(await relayOverTcp(sandbox.info.plug.host, sandbox.info.plug.port)).toBe(1);

    const shadow = (await sandbox.namedShadow(entry!.thing!, 'plug-lamp')) as { state: { desired: { requestId: string }; reported: { lastRequest: { requestId: string } } } };
    const requestId = shadow.state.desired.requestId;
    expect(shadow.state.reported.lastRequest.requestId).toBe(requestId);
    const states = await cardStates(p);
    const pending = states.findIndex((s) => s.request === 'pending');
    const applied = states.findIndex((s) => s.request === 'applied');
    // Seen on the page: first the request in desired, not yet answered, then the hub's answer.
    expect(pending).toBeGreaterThanOrEqual(0);
    expect(applied).toBeGreaterThan(pending);
    expect(states[pending]!.desired).toBe(`ON · request ${requestId.slice(0, 8)}…`);
    expect(states[pending]!.requestText).toMatch(new RegExp(`^ON requested \\(${requestId.slice(0, 8)}…\\).*waiting for the hub$`));
    expect(states[pending]!.reported).toBe('OFF · online: true');
    expect(states[applied]!.requestText).toBe(`applied: ON (${requestId.slice(0, 8)}…)`);
    await waitForSaid(p, `sandbox plug: applied: ON (${requestId.slice(0, 8)}…)`);
    expect(errors).toEqual([]);
  });

  it('shows several plugs of chosen kinds on two hubs, each with its hub, shadow name and kind, and one click applied on each', async () => {
    const sandbox = await start({ devices: 2, plugs: ['lamp=hs100', 'fan@shadowplug-device-2=hs110', 'desk=hs300#1'] });
    const [thing1, thing2] = sandbox.info.things.map((t) => t.name) as [string, string];
    const p = await openDashboard(sandbox);
    const expected = [
      { id: 'lamp', hub: `${thing1} · plug-lamp (hub online)`, kind: 'hs100 · IOT over XOR' },
      { id: 'fan', hub: `${thing2} · plug-fan (hub online)`, kind: 'hs110 · IOT over XOR' },
      { id: 'desk', hub: `${thing1} · plug-desk (hub online)`, kind: 'hs300 · IOT over XOR · outlet 1' },
    ];
    expect(await p.locator('[data-plug]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-plug')))).toEqual(expected.map((e) => e.id));
    for (const e of expected) {
      const card = p.locator(`[data-plug="${e.id}"]`);
      await p.locator(`[data-plug="${e.id}"][data-online="online"]`).waitFor();
      await card.locator('[data-field="hub"]', { hasText: e.hub }).waitFor();
      await card.locator('[data-field="kind"]', { hasText: e.kind }).waitFor();
    }
    await p.locator('#plug-shadows-summary', { hasText: '3/3 online' }).waitFor();
    // The HS110 has a meter, the HS100 has none.
    await p.locator('[data-plug="fan"] [data-field="energy"]', { hasText: / W · .* V · .* A · .* kWh$/ }).waitFor();
    await p.locator('[data-plug="lamp"] [data-field="energy"]', { hasText: 'no meter' }).waitFor();

    await p.getByRole('button', { name: 'Single press' }).click();
    for (const e of expected) {
      await p.locator(`[data-plug="${e.id}"][data-request="applied"]`).waitFor();
      await p.locator(`[data-plug="${e.id}"] [data-field="request"]`, { hasText: /^applied: ON \(/ }).waitFor();
      const thing = e.id === 'fan' ? thing2 : thing1;
      const shadow = (await sandbox.namedShadow(thing, `plug-${e.id}`)) as { state: { reported: { power: string; lastRequest: { outcome: string } } } };
      expect(shadow.state.reported).toMatchObject({ power: 'on', lastRequest: { outcome: 'applied' } });
    }
    expect(errors).toEqual([]);
  });

  it("shows a click while the plug's hub is offline as pending and unanswered, and applied when the hub comes back", async () => {
    const sandbox = await start();
    const thing = sandbox.info.plugs![0]!.thing!;
    const p = await openDashboard(sandbox);
    const card = p.locator('[data-plug="lamp"]');
    await p.locator('[data-plug="lamp"][data-online="online"]').waitFor();

    await sandbox.stopAgent(thing);
    await card.locator('[data-field="hub"]', { hasText: `${thing} · plug-lamp (hub OFFLINE)` }).waitFor();
    await publishClick(sandbox.info, 'SINGLE');
    await p.locator('[data-plug="lamp"][data-request="pending"]').waitFor();
    await card.locator('[data-field="request"]', { hasText: `— hub ${thing} is offline, so nobody answers it` }).waitFor();
    await card.locator('[data-field="desired"]', { hasText: /^ON · request / }).waitFor();
    expect((await sandbox.plugState('lamp')).relayState).toBe(0);

    await sandbox.startAgent(thing); // back within the request's age limit: it is applied
    await p.locator('[data-plug="lamp"][data-request="applied"]').waitFor();
    await card.locator('[data-field="hub"]', { hasText: '(hub online)' }).waitFor();
    await card.locator('[data-field="request"]', { hasText: /^applied: ON \(/ }).waitFor();
    expect((await sandbox.plugState('lamp')).relayState).toBe(1);
    expect(errors).toEqual([]);
  });

  it("shows a plug its hub cannot reach as online: false with the error, and a click to it as failed with the error's code and message", async () => {
    const plug = await ownPlug();
    const sandbox = await start({ plug: `${plug.host}:${plug.port}`, plugPollMs: 200 });
    const p = await openDashboard(sandbox);
    const card = p.locator('[data-plug="lamp"]');
    await p.locator('[data-plug="lamp"][data-online="online"]').waitFor();
    await recordCard(p, 'lamp');

    await plug.close(); // the plug is gone from the LAN
    await p.locator('[data-plug="lamp"][data-online="offline"]').waitFor();
    await card.locator('[data-field="reported"]', { hasText: 'online: false' }).waitFor();
    const offline = (await card.locator('[data-field="error"]').textContent())!;
    expect(offline).toMatch(/^Plug not reachable by its hub: TPLINK_[A-Z_]+: .+/);
    expect(offline).toContain(`${plug.host}:${plug.port}`);
    await waitForSaid(p, 'sandbox plug is offline: TPLINK_');

    await publishClick(sandbox.info, 'SINGLE');
    await p.locator('[data-plug="lamp"][data-request="failed"]').waitFor();
    const shadow = (await sandbox.namedShadow(sandbox.info.plugs![0]!.thing!, 'plug-lamp')) as {
      state: { reported: { online: boolean; lastRequest: { requestId: string; outcome: string; error: { code: string; message: string } } } };
    };
    const { lastRequest } = shadow.state.reported;
    expect(lastRequest.outcome).toBe('failed');
    expect(shadow.state.reported.online).toBe(false);
    await card.locator('[data-field="request"]', { hasText: `failed (${lastRequest.requestId.slice(0, 8)}…): ${lastRequest.error.code}: ${lastRequest.error.message}` }).waitFor();
    await waitForSaid(p, `sandbox plug: request failed (${lastRequest.requestId.slice(0, 8)}…): ${lastRequest.error.code}: `);
    expect(errors).toEqual([]);
  });

  it("shows a metered plug's energy readings as its shadow reports them (a simulated HS300 strip)", async () => {
    const sandbox = await start({ strip: true });
    const p = await openDashboard(sandbox);
    const card = p.locator('[data-plug="lamp"]');
    await card.locator('[data-field="energy"]', { hasText: / W · .* V · .* A · .* kWh$/ }).waitFor();
    // The page's text against the shadow's readings, read together (a meter's readings may move between polls).
    await waitFor("the page to show the shadow's readings", async () => {
      const shadow = (await sandbox.namedShadow(sandbox.info.plugs![0]!.thing!, 'plug-lamp')) as { state: { reported: { energy: { powerW: number; voltageV: number; totalKwh: number } } } };
      const { energy } = shadow.state.reported;
      const text = await card.locator('[data-field="energy"]').textContent();
      return text?.startsWith(`${energy.powerW.toFixed(1)} W · ${energy.voltageV.toFixed(1)} V · `) && text.endsWith(` · ${energy.totalKwh.toFixed(3)} kWh`) ? true : undefined;
    });
    await card.locator('[data-field="model"]', { hasText: /^HS300/ }).waitFor();
    expect(errors).toEqual([]);
  });

  it('lists a direct-mode plug as one without a shadow (the button function switches it over TCP)', async () => {
    const sandbox = await start({ plugMode: 'direct' });
    expect(sandbox.info.plugs).toEqual([expect.objectContaining({ id: 'lamp', mode: 'direct', thing: null, shadowName: null })]);
    const p = await openDashboard(sandbox);
    const card = p.locator('[data-plug="lamp"][data-request="direct"]');
    await card.locator('[data-field="request"]', { hasText: 'direct mode: the button function switches the plug over TCP, no shadow' }).waitFor();
    await card.locator('[data-field="hub"]', { hasText: 'none (direct mode)' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('shows a plug alias with HTML in it as text, never as markup', async () => {
    const alias = '<img src=x onerror="globalThis.pwned=1"><b>Lamp</b> & <script>globalThis.pwned=2</script>';
    const plug = await ownPlug(alias);
    const sandbox = await start({ plug: `${plug.host}:${plug.port}` });
    const p = await openDashboard(sandbox);
    const card = p.locator('[data-plug="lamp"]');
    await p.locator('[data-plug="lamp"][data-online="online"]').waitFor();
    await waitFor('the alias in the card', async () => ((await card.locator('h3 .name').textContent()) === alias ? true : undefined));
    expect(await card.locator('img, b, script').count()).toBe(0);
    expect(await p.locator('img').count()).toBe(0);
    expect(await p.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
