/**
 * The dashboard's plug panel with a first plug that does not speak XOR: a Tapo P110 over KLAP and
 * a P100 over AES, both SMART, behind a TP-Link account that is not the default one. The panel
 * reaches them in their own protocol (shown as such), reads model, state and energy, and its
 * switch toggles the simulated device (read back from the device itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox';
import { launchChromium, watchErrors } from '../helpers/browser';

const ACCOUNT = { username: 'owner@example.com', password: 'pw-dash2-kettle' };

/** The panel's facts as term → description. */
async function facts(p: Page): Promise<Record<string, string>> {
  return p.$$eval('#plug dl.facts dt', (dts) => Object.fromEntries(dts.map((dt) => [dt.textContent ?? '', dt.nextElementSibling?.textContent ?? ''])));
}

describe('sandbox dashboard plug panel, KLAP and AES plugs', () => {
  let browser: Browser;
  const open: { sandbox: Sandbox; dir: string }[] = [];
  let page: Page | undefined;

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
  });

  async function start(options: SandboxOptions): Promise<Sandbox> {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-dashboard-protocols-'));
    const sandbox = await startSandbox({ dir, dashboard: { port: 0 }, writeInfoFile: false, plugCredentials: ACCOUNT, ...options });
    open.push({ sandbox, dir });
    return sandbox;
  }

  async function openDashboard(sandbox: Sandbox): Promise<{ p: Page; errors: string[] }> {
    const p = (page = await browser.newPage());
    const errors = watchErrors(p);
    await p.goto(sandbox.info.dashboard!);
    await p.locator('#connection[data-state="live"]').waitFor();
    return { p, errors };
  }

  it('a P110 over KLAP: shows model, state, energy and "SMART over KLAP v2", and its switch toggles the device', async () => {
    const sandbox = await start({ plugs: ['kettle=p110-klap'] });
    expect(sandbox.info.plugs![0]).toMatchObject({ id: 'kettle', protocol: 'klap', family: 'smart' });
    const { p, errors } = await openDashboard(sandbox);
    await p.locator('#plug-online', { hasText: 'online' }).waitFor();
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(await facts(p)).toMatchObject({ Model: 'P110', Protocol: 'SMART over KLAP v2', Energy: '0.0 W · 230.0 V · 0.00 A' });
    expect((await sandbox.plugState('kettle')).relayState).toBe(0);

    await p.locator('#plug-toggle').click();
    await sandbox.waitForPlug((s) => s.relayState === 1, 5_000, 'kettle');
    await p.locator('#plug-state', { hasText: 'ON' }).waitFor();
    // The meter follows the relay: a switched-on P110 draws its load.
    await p.locator('#plug dl.facts dd', { hasText: '12.0 W · 230.0 V · 0.05 A' }).waitFor();

    await p.locator('#plug-toggle').click();
    await sandbox.waitForPlug((s) => s.relayState === 0, 5_000, 'kettle');
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(await p.locator('#plug .err').textContent()).toBe('');
    expect(errors).toEqual([]);
  });

  it('a P100 over AES: shows "SMART over AES v2", no meter, and its switch toggles the device', async () => {
    const sandbox = await start({ plugs: ['lamp=p100-aes'] });
    const { p, errors } = await openDashboard(sandbox);
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(await facts(p)).toMatchObject({ Model: 'P100', Protocol: 'SMART over AES v2', Energy: 'not metered' });
    await p.locator('#plug-toggle').click();
    await sandbox.waitForPlug((s) => s.relayState === 1, 5_000, 'lamp');
    await p.locator('#plug-state', { hasText: 'ON' }).waitFor();
    expect(errors).toEqual([]);
  });
});
