/**
 * The sandbox dashboard in a real browser (Chromium through playwright-core) against a real
 * sandbox on 127.0.0.1: what the page shows is checked against the plug over TCP, the devices'
 * files on disk and their shadows, and what it may not do (a foreign page's POST) is tried.
 */
import { createServer, get as httpGet, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { Plug } from '../../core/tplink/plug';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../sandbox/sandbox';
import type { SandboxEvent } from '../../sandbox/event-log';
import { launchChromium, watchErrors } from '../helpers/browser';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { counterKey } from '../../core/release/companion';
import { sandboxS3Client } from '../../sandbox/upload';
import { portIsClosed, publishClick, waitFor } from '../helpers/sandbox-harness';

/** The relay as any TP-Link client sees it over the local protocol. */
async function relayOverTcp(sandbox: Sandbox): Promise<number | undefined> {
  const plug = new Plug({ host: sandbox.info.plug.host, port: sandbox.info.plug.port });
  try {
    return (await plug.status()).relayState;
  } finally {
    await plug.close();
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('sandbox dashboard in a browser', () => {
  let browser: Browser;
  const open: { sandbox: Sandbox; dir: string }[] = [];
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close();
    for (const { sandbox, dir } of open.splice(0)) {
      await sandbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  async function start(options: SandboxOptions = {}): Promise<Sandbox> {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-dashboard-'));
    const sandbox = await startSandbox({ dir, dashboard: true, writeInfoFile: false, ...options });
    open.push({ sandbox, dir });
    return sandbox;
  }

  async function openDashboard(sandbox: Sandbox): Promise<Page> {
    page = await browser.newPage();
    errors = watchErrors(page);
    await page.goto(sandbox.info.dashboard!);
    await page.locator('#connection[data-state="live"]').waitFor();
    return page;
  }

  it('is served on 127.0.0.1 and named in the sandbox info', async () => {
    const sandbox = await start();
    expect(sandbox.info.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const p = await openDashboard(sandbox);
    await expect(p.title()).resolves.toBe('shadowplug sandbox');
    // Every button has a name a screen reader can say.
    const unnamed = await p.$$eval('button', (bs) => bs.filter((b) => !(b.getAttribute('aria-label') || b.textContent?.trim())).length);
    expect(unnamed).toBe(0);
    expect(errors).toEqual([]);
    await p.close();
    await sandbox.close();
    expect(await portIsClosed(Number(new URL(sandbox.info.dashboard!).port))).toBe(true);
  });

  it("pressing the page's toggle switches the simulated plug (seen over TCP) and the page shows the new state", async () => {
    const sandbox = await start();
    const p = await openDashboard(sandbox);
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(await relayOverTcp(sandbox)).toBe(0);

    // By keyboard: focus the real button and press Enter.
    await p.getByRole('button', { name: 'Turn sandbox plug on' }).focus();
    await p.keyboard.press('Enter');
    await waitFor('the relay to be on over TCP', async () => ((await relayOverTcp(sandbox)) === 1 ? true : undefined));
    await p.locator('#plug-state', { hasText: 'ON' }).waitFor();
    await p.getByRole('button', { name: 'Turn sandbox plug off' }).waitFor();
    await p.locator('#announce', { hasText: 'sandbox plug is now ON' }).waitFor();

    await p.getByRole('button', { name: 'Turn sandbox plug off' }).click();
    await waitFor('the relay to be off over TCP', async () => ((await relayOverTcp(sandbox)) === 0 ? true : undefined));
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('a click published over MQTT/TLS from outside the page appears on it without a reload', async () => {
    const sandbox = await start();
    const p = await openDashboard(sandbox);
    await p.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await publishClick(sandbox.info, 'SINGLE');
    await sandbox.waitForPlug((s) => s.relayState === 1);
    await p.locator('#timeline li', { hasText: `click    SINGLE from button ${sandbox.info.button.serial}` }).waitFor();
    await p.locator('#plug-state', { hasText: 'ON' }).waitFor();
    expect(await p.evaluate(() => (globalThis as unknown as { marker?: number }).marker)).toBe(42);
    expect(errors).toEqual([]);
  });

  it("the page's IoT button publishes a real click: the button Lambda switches the plug", async () => {
    const sandbox = await start({ clickActions: 'DOUBLE=on,LONG=off' });
    const events: SandboxEvent[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => events.push(e));
    const p = await openDashboard(sandbox);
    await p.getByRole('button', { name: 'Double press' }).click();
    await waitFor('the relay to be on over TCP', async () => ((await relayOverTcp(sandbox)) === 1 ? true : undefined));
    expect(events).toContainEqual(expect.objectContaining({ type: 'click', clickType: 'DOUBLE', serial: sandbox.info.button.serial }));
    await p.locator('#click-result', { hasText: /published DOUBLE click on iotbutton\// }).waitFor();
    await p.getByRole('button', { name: 'Long press' }).click();
    await waitFor('the relay to be off over TCP', async () => ((await relayOverTcp(sandbox)) === 0 ? true : undefined));
    await p.locator('#plug-state', { hasText: 'OFF' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('a file uploaded through the page is delivered, verified, to the chosen device only, and the page shows it in sync', async () => {
    const sandbox = await start({ devices: 2 });
    const [one, two] = sandbox.info.things.map((t) => t.name) as [string, string];
    const installed: Extract<SandboxEvent, { type: 'installed' }>[] = [];
    sandbox.events.on('event', (e: SandboxEvent) => e.type === 'installed' && installed.push(e));
    const p = await openDashboard(sandbox);
    const bytes = Buffer.from(`firmware for ${two} ${Date.now()}\n`.repeat(2000));
    const sha256 = createHash('sha256').update(bytes).digest('hex');

    await p.getByLabel('File').setInputFiles({ name: 'fw.bin', mimeType: 'application/octet-stream', buffer: bytes });
    await p.getByLabel('Deliver to').selectOption(two);
    await p.getByRole('button', { name: 'Upload', exact: true }).click();

    await sandbox.waitForReported(two, sha256);
    const delivered = installed.find((e) => e.thing === two)!;
    expect(readFileSync(delivered.path)).toEqual(bytes);
    const row = p.locator(`#device-rows tr[data-thing="${two}"]`);
    await row.locator('.badge', { hasText: 'in sync' }).waitFor();
    await row.locator('td', { hasText: `things/${two}/fw.bin · ${sha256.slice(0, 12)}` }).first().waitFor();
    await p.locator(`#uploads li[data-stage="verified"][data-key="things/${two}/fw.bin"]`, { hasText: 'Verified 1/1' }).waitFor();
    await p.locator('#announce', { hasText: `things/${two}/fw.bin verified on 1 of 1 devices` }).waitFor();
    await p.locator('#fleet-summary', { hasText: '2/2 in sync' }).waitFor();
    // The other device was not asked for it.
    expect(installed.filter((e) => e.thing === one)).toEqual([]);
    const shadowOne = (await sandbox.shadow(one)) as { state?: { desired?: { s3?: unknown } } } | undefined;
    expect(shadowOne?.state?.desired?.s3).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('shows an upload of a new key with the same bytes as the last one verified, and refuses a name no device installs, saying why', async () => {
    const sandbox = await start({ devices: 1 });
    const thing = sandbox.info.things[0]!;
    const p = await openDashboard(sandbox);
    const bytes = Buffer.from('the same bytes, twice\n'.repeat(500));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const uploadThroughPage = async (name: string) => {
      await p.getByLabel('File').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: bytes });
      await p.getByRole('button', { name: 'Upload', exact: true }).click();
    };

    await uploadThroughPage('fw.bin');
    await p.locator('#uploads li[data-stage="verified"][data-key="fw.bin"]', { hasText: 'Verified 1/1' }).waitFor();
    await uploadThroughPage('copy.bin');
    await p.locator('#uploads li[data-stage="verified"][data-key="copy.bin"]', { hasText: 'Verified 1/1' }).waitFor();
    await sandbox.waitForReported(thing.name, sha256);
    expect(readFileSync(join(thing.dest, 'copy.bin'))).toEqual(bytes);
    await p.locator(`#device-rows tr[data-thing="${thing.name}"] .badge`, { hasText: 'in sync' }).waitFor();

    await uploadThroughPage('.shadowplug-evil');
    await p.locator('#my-upload .err', { hasText: '".shadowplug-evil"' }).waitFor();
    await expect(p.locator('#my-upload .err').textContent()).resolves.toContain('names starting with .shadowplug- are reserved for the agent');
    const shadow = (await sandbox.shadow(thing.name)) as { state?: { desired?: { s3?: { key?: string } } } };
    expect(shadow.state?.desired?.s3?.key).toBe('copy.bin');
  });

  it("shows each device's signed release: verified with its number, or the device's refusal code", async () => {
    const sandbox = await start({ devices: 1 });
    const thing = sandbox.info.things[0]!;
    const p = await openDashboard(sandbox);
    const release = p.locator(`#device-rows tr[data-thing="${thing.name}"] td[data-field="release"]`);
    const uploadThroughPage = async (text: string) => {
      await p.getByLabel('File').setInputFiles({ name: 'fw.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(text) });
      await p.getByRole('button', { name: 'Upload', exact: true }).click();
    };
    await release.locator('xpath=self::*[@data-state="none"]').waitFor();

    await uploadThroughPage('release one');
    await p.locator('#my-upload', { hasText: 'as signed release 1' }).waitFor();
    await release.locator('.badge', { hasText: 'signed · verified release 1' }).waitFor();
    await uploadThroughPage('release two');
    await release.locator('.badge', { hasText: 'signed · verified release 2' }).waitFor();

    // Release 1 again, its counter removed by someone with access to the bucket: the device refuses it.
    const s3 = sandboxS3Client(sandbox.info);
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: counterKey('fw.bin') }));
      await sandbox.upload('fw.bin', 'release one', { release: 1 });
      await release.locator('.badge', { hasText: 'refused: RELEASE_ROLLBACK (release 1)' }).waitFor();
      expect(await release.getAttribute('data-state')).toBe('refused');
      // An object put straight into the bucket, unsigned.
      await s3.send(new PutObjectCommand({ Bucket: sandbox.info.s3.bucket, Key: 'plain.bin', Body: 'not signed' }));
      await release.locator('.badge', { hasText: 'refused: RELEASE_UNSIGNED' }).waitFor();
    } finally {
      s3.destroy();
    }
    expect(readFileSync(join(thing.dest, 'fw.bin'), 'utf8')).toBe('release two');
    expect(errors).toEqual([]);
  });

  it("shows a strip's outlets with their energy meters, and switches one outlet alone (seen over TCP)", async () => {
    const sandbox = await start({ strip: true });
    const p = await openDashboard(sandbox);
    const outlets = p.locator('#plug .outlets li');
    await outlets.first().waitFor();
    expect(await outlets.count()).toBe(6);
    await outlets.first().locator('.muted', { hasText: / W · .* V · .* A/ }).waitFor();
    await p.getByRole('button', { name: /^Turn .* on$/ }).nth(2).click();
    const plug = new Plug({ host: sandbox.info.plug.host, port: sandbox.info.plug.port });
    try {
      const states = await waitFor('outlet 2 to be on over TCP', async () => {
        const s = (await plug.status()).children!.map((c) => c.state);
        return s[2] === 1 ? s : undefined;
      });
      expect(states).toEqual([0, 0, 1, 0, 0, 0]);
    } finally {
      await plug.close();
    }
    await p.locator('#plug-state', { hasText: '1/6 on' }).waitFor();
    expect(errors).toEqual([]);
  });

  it('shows an unreachable plug as offline, with its toggle disabled', async () => {
    const port = await closedPort();
    const sandbox = await start({ plug: `127.0.0.1:${port}` });
    const p = await openDashboard(sandbox);
    await p.locator('#plug-online', { hasText: 'offline' }).waitFor();
    await expect(p.locator('#plug-toggle').isDisabled()).resolves.toBe(true);
    await p.locator('#plug .err', { hasText: `127.0.0.1:${port}` }).waitFor();
    expect(errors).toEqual([]);
  });

  it('refuses a POST from another origin, and changes nothing by GET', async () => {
    const sandbox = await start();
    const dashboard = sandbox.info.dashboard!;
    // A foreign page on another port of 127.0.0.1 tries a form POST and a no-cors fetch.
    const foreign: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><form method="post" action="${dashboard}api/plug/toggle" enctype="text/plain"><input name='{"a":"' value='"}'></form>
        <script>fetch(${JSON.stringify(dashboard + 'api/plug/toggle')}, { method: 'POST', mode: 'no-cors', body: '{}' }).finally(() => document.forms[0].submit());</script>`);
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', () => r()));
    try {
      page = await browser.newPage();
      const refused = page.waitForResponse((r) => r.url() === `${dashboard}api/plug/toggle` && r.request().resourceType() === 'document');
      await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
      expect((await refused).status()).toBe(403);
    } finally {
      await new Promise<void>((r) => foreign.close(() => r()));
    }
    const direct = await fetch(`${dashboard}api/plug/toggle`, { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body: '{}' });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { error: string }).error).toMatch(/Origin http:\/\/evil\.example may not change the sandbox/);
    expect((await fetch(`${dashboard}api/plug/toggle`)).status).toBe(404);
    // A DNS name rebound to 127.0.0.1 (fetch may not set Host, so plain http).
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      httpGet(`${dashboard}api/shadow?thing=x`, { headers: { Host: `attacker.example:${new URL(dashboard).port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(rebound).toBe(421);
    expect(await relayOverTcp(sandbox)).toBe(0);
  });

  it('stays bounded with 200 devices: one page of rows, a fleet summary, paging by keyboard', async () => {
    const sandbox = await start({ devices: 200, agents: false });
    const p = await openDashboard(sandbox);
    await p.locator('#fleet-summary', { hasText: '200/200 in sync' }).waitFor();
    expect(await p.locator('#device-rows tr').count()).toBe(50);
    await p.locator('#page-info', { hasText: '1–50 of 200' }).waitFor();
    await p.getByRole('button', { name: 'Next page' }).focus();
    await p.keyboard.press('Enter');
    await p.locator('#page-info', { hasText: '51–100 of 200' }).waitFor();
    await p.getByLabel('Find').fill('device-199');
    await p.locator('#page-info', { hasText: '1–1 of 1' }).waitFor();
    expect(await p.locator('#device-rows tr').count()).toBe(1);
    expect(await p.locator('*').count()).toBeLessThan(3000);
    expect(errors).toEqual([]);
  });
});
