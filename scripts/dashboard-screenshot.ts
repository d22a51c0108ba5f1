/**
 * `npm run screenshot`: docs/dashboard.png, a real sandbox's dashboard (three simulated plugs,
 * twelve devices) after a click and an upload, taken with Debian's Chromium. Rerun when the page changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';
import { publishClick } from '../core/button/publish-click';
import { startSandbox } from '../sandbox/sandbox';
import { buttonIdentity } from '../sandbox/sandbox-info';

const OUT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', 'docs', 'dashboard.png');

const dir = mkdtempSync(join(tmpdir(), 'dashboard-screenshot-'));
// The first plug is the strip the Plug panel shows; all three are switched through their shadows.
const sandbox = await startSandbox({ dir, devices: 12, plugs: ['strip=hs300', 'fan@shadowplug-device-2=hs110', 'desk=p110-klap'], dashboard: true, writeInfoFile: false });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(sandbox.info.dashboard!);
  await page.locator('#connection[data-state="live"]').waitFor();
  const { info } = sandbox;
  await publishClick({
    ...buttonIdentity(info),
    serial: info.button.serial,
    clickType: 'SINGLE',
  });
  await sandbox.waitForPlug((s) => s.children?.every((c) => c.state === 1) ?? false);
  const firmware = Buffer.alloc(256 * 1024, 'shadowplug firmware 1.2\n');
  const hash = createHash('sha256').update(firmware).digest('hex');
  await sandbox.upload('firmware-1.2.bin', firmware);
  await Promise.all(info.things.map((t) => sandbox.waitForReported(t.name, hash)));
  await page.locator('#uploads li[data-stage="verified"]').waitFor();
  await page.locator('#fleet-summary', { hasText: '12/12 in sync' }).waitFor();
  await page.locator('#plug-state', { hasText: '6/6 on' }).waitFor();
  for (const plug of info.plugs ?? []) await page.locator(`[data-plug="${plug.id}"][data-request="applied"]`).waitFor();
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
