import { describe, expect, it } from 'vitest';
import { agentInfo, AgentInfoCapability, reportsInfo } from '../../../agent/agent-info';
import type { Json } from '../../../core/shadow/json';
import { silentLogger } from '../../../core/logger';

const INFO = agentInfo({ version: '1.2.3', node: 'v20.19.0', platform: 'linux', arch: 'arm64', startedAt: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)) });

function reporter(outcome: 'accept' | 'reject' = 'accept') {
  const reports: [string, Json][] = [];
  let settle: (() => void) | undefined;
  return {
    reports,
    settle: () => settle?.(),
    report(property: string, value: Json): Promise<void> {
      reports.push([property, value]);
      return new Promise<void>((resolve, reject) => (settle = outcome === 'accept' ? resolve : () => reject(new Error('offline'))));
    },
  };
}

describe('agent info', () => {
  it('says version, Node version, platform-arch and start time', () => {
    expect(INFO).toEqual({ version: '1.2.3', node: 'v20.19.0', platform: 'linux-arm64', startedAt: '2026-01-02T03:04:05.000Z' });
  });

  it('is already reported when every field matches, whatever else is there', () => {
    expect(reportsInfo({ ...INFO, extra: 1 }, INFO)).toBe(true);
    expect(reportsInfo({ ...INFO, node: 'v22.0.0' }, INFO)).toBe(false);
    expect(reportsInfo(undefined, INFO)).toBe(false);
    expect(reportsInfo('x', INFO)).toBe(false);
  });

  it('reports itself when the shadow says otherwise, one report at a time', async () => {
    const r = reporter();
    const capability = new AgentInfoCapability(INFO, r, silentLogger);
    capability.onShadow({ desired: undefined, reported: undefined, version: 1 });
    capability.onShadow({ desired: undefined, reported: undefined, version: 1 });
    expect(r.reports).toEqual([['agent', INFO]]);
    r.settle();
    await new Promise((resolve) => setImmediate(resolve));
    capability.onShadow({ desired: undefined, reported: { ...INFO }, version: 2 });
    expect(r.reports).toHaveLength(1);
    capability.onShadow({ desired: undefined, reported: { ...INFO, version: '0.0.1' }, version: 3 });
    expect(r.reports).toHaveLength(2);
  });

  it('tries again on the next shadow view after a failed report', async () => {
    const r = reporter('reject');
    const capability = new AgentInfoCapability(INFO, r, silentLogger);
    capability.onShadow({ desired: undefined, reported: undefined, version: 1 });
    r.settle();
    await new Promise((resolve) => setImmediate(resolve));
    capability.onShadow({ desired: undefined, reported: undefined, version: 1 });
    expect(r.reports).toHaveLength(2);
  });
});
