/**
 * A roll-out on the dashboard in a real browser (Chromium through playwright-core): `--rollout
 * --no-agents` with four devices of the test's own, two of which cannot take the file (a 1-byte
 * size limit). The abort rule (50 % after 2) cancels the job, and the page shows the roll-out
 * aborted, its wave, the counts, the rule that fired and the failed devices with their code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startAgent, type Agent } from '../../agent/agent';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox';
import { launchChromium, watchErrors } from '../helpers/browser';

const ROLLOUT = {
  jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
  abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 2 }] },
};

describe('sandbox dashboard: a roll-out in a browser', () => {
  let browser: Browser;
  let dir: string;
  let sandbox: Sandbox;
  const agents: Agent[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-dashboard-rollout-'));
    browser = await launchChromium();
    sandbox = await startSandbox({ dir, devices: 4, agents: false, plugMode: 'direct', dashboard: true, writeInfoFile: false, rollout: ROLLOUT });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await browser?.close();
    await sandbox?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the roll-out aborted, with its wave, counts, the rule that fired and the failed devices', async () => {
    const { info } = sandbox;
    const failing = new Set([info.things[1]!.name, info.things[3]!.name]);
    for (const thing of info.things) {
      const agent = await startAgent({
        endpoint: info.mqtt.host,
        port: info.mqtt.port,
        cert: thing.cert,
        key: thing.key,
        caFile: info.ca,
        thingName: thing.name,
        credentialEndpoint: info.credentials.endpoint,
        s3Endpoint: info.s3.endpoint,
        region: info.s3.region,
        dest: thing.dest,
        stateDir: join(dir, 'own-agents', thing.name),
        jobs: true,
        jobRetry: { initialMs: 10, maxMs: 20, attempts: 2 },
        ...(failing.has(thing.name) ? { maxSize: 1 } : {}),
      });
      agents.push(agent);
    }
    const page = await browser.newPage();
    const errors = watchErrors(page);
    await page.goto(info.dashboard!);
    await page.locator('#connection[data-state="live"]').waitFor();

    await sandbox.upload('firmware.bin', 'too big for two of them');
    const item = page.locator('#rollouts li[data-status="CANCELED"]');
    await item.waitFor({ timeout: 30_000 });
    const text = (await item.textContent()) ?? '';
    expect(text).toMatch(/^firmware\.bin → job sp-[0-9a-f]{24} aborted/);
    expect(text).toContain('Waves: minute 0: 4');
    expect(text).toMatch(/\d+ succeeded, 2 failed, \d+ in progress, 0 queued, 0 not notified \(of 4\)/);
    expect(text).toContain('Aborted: abortConfig: 2 of 4 notified things (50.0 %) ended FAILED, threshold 50 % after 2');
    const named = /Failed: (.*)$/.exec(text)![1]!.split(', ');
    expect(named.sort()).toEqual([...failing].sort().map((t) => `${t} OBJECT_TOO_LARGE`));
    expect(await page.locator('#rollouts-h').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
