/**
 * `sandbox click` reads the plug with the running sandbox's TP-Link account: its email comes from
 * sandbox.json, its password (never written there) from --tplink-password or the environment; when
 * it cannot, the click says why instead of a bare "plug still unknown".
 */
import { describe, expect, it } from 'vitest';
import { clickCredentials, describeClick } from '../../../sandbox/click';
import { SANDBOX_TPLINK_CREDENTIALS } from '../../../sandbox/sandbox-config';
import type { SandboxInfo } from '../../../sandbox/sandbox-info';

const started = (tplinkUsername?: string) => ({ tplinkUsername }) as SandboxInfo;

describe("sandbox click's TP-Link account", () => {
  it("uses the sandbox's own default account when the sandbox was started with it (or says nothing)", () => {
    expect(clickCredentials(started(SANDBOX_TPLINK_CREDENTIALS.username), undefined, {})).toEqual(SANDBOX_TPLINK_CREDENTIALS);
    expect(clickCredentials(started(), undefined, {})).toEqual(SANDBOX_TPLINK_CREDENTIALS);
  });

  it("takes the running sandbox's account email with the password given by flag or environment", () => {
    expect(clickCredentials(started('owner@example.com'), { password: 'pw' }, {})).toEqual({ username: 'owner@example.com', password: 'pw' });
    expect(clickCredentials(started('owner@example.com'), undefined, { SHADOWPLUG_TPLINK_PASSWORD: 'env-pw' })).toEqual({ username: 'owner@example.com', password: 'env-pw' });
    expect(clickCredentials(started('owner@example.com'), { username: 'other@example.com', password: 'x' }, {})).toEqual({ username: 'other@example.com', password: 'x' });
  });

  it('says which account needs its password, and how to give it, when none is given', () => {
    const why = clickCredentials(started('owner@example.com'), undefined, {});
    expect(why).toBe('the sandbox uses the TP-Link account owner@example.com: give its password with --tplink-password or SHADOWPLUG_TPLINK_PASSWORD to read the plug');
    const line = describeClick({ topic: 'iotbutton/G030', clickType: 'SINGLE', acknowledgedMs: 3, changed: false, plugError: why as string });
    expect(line).toMatch(/plug still unknown \(the sandbox uses the TP-Link account owner@example\.com: give its password/);
  });
});
