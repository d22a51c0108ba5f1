import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Backoff, sleep } from '../../../agent/backoff';
import { hookEnvironment, HookRunner } from '../../../agent/hook';
import { attachProgress, renderBar } from '../../../agent/progress';
import { StateStore } from '../../../agent/state-store';
import { createLogger, silentLogger } from '../../../core/logger';

describe('Backoff', () => {
  it('doubles its ceiling up to the maximum, with jitter in the upper half', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
    const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect(low.next()).toBe(50);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('sleep rejects with the abort reason', async () => {
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});

describe('StateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'agent-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const entry = { url: 's3://b/k', hash: 'a'.repeat(64), size: 3, path: '/d/k', installedAt: '2026-01-01T00:00:00.000Z', desired: { url: 's3://b/k', hash: 'a'.repeat(64) } };

  it('persists per property across reopen, with concurrent writes all kept', async () => {
    const s = await StateStore.open(join(dir, 'st'));
    await Promise.all([s.set('s3', entry), s.set('other', { ...entry, path: '/d/o' })]);
    const again = await StateStore.open(join(dir, 'st'));
    expect(again.get('s3')).toEqual(entry);
    expect(again.get('other')?.path).toBe('/d/o');
    await again.set('other', undefined);
    expect((await StateStore.open(join(dir, 'st'))).get('other')).toBeUndefined();
  });

  it('refuses a corrupt state file instead of silently forgetting what is installed', async () => {
    writeFileSync(join(dir, 'state.json'), '{"format":1,"prop');
    await expect(StateStore.open(dir)).rejects.toMatchObject({ code: 'INSTALL_FAILED', retryable: false });
    await expect(StateStore.open(dir)).rejects.toThrow('is corrupt');
  });
});

describe('on-update hook', () => {
  it('passes what was installed in the environment and logs the exit status; a failing hook is only logged', async () => {
    const lines: string[] = [];
    const logger = createLogger({ json: true, write: (l) => lines.push(l) });
    const hook = new HookRunner('echo "$SHADOWPLUG_PATH|$SHADOWPLUG_HASH|$SHADOWPLUG_VERSION_ID"; exit 3', logger);
    const code = await hook.run({ path: '/d/a b', hash: 'h', url: 's3://b/a b', versionId: 'v9', size: 1, property: 's3', thingName: 't' });
    expect(code).toBe(3);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((l) => l.message === 'on-update output')?.line).toBe('/d/a b|h|v9');
    expect(parsed.find((l) => l.exitCode === 3)?.message).toContain('failed');
  });

  it('environment names', () => {
    expect(Object.keys(hookEnvironment({ path: 'p', hash: 'h', url: 'u', size: 1, property: 's3', thingName: 't' })).sort()).toEqual([
      'SHADOWPLUG_HASH', 'SHADOWPLUG_PATH', 'SHADOWPLUG_PROPERTY', 'SHADOWPLUG_SIZE', 'SHADOWPLUG_THING_NAME', 'SHADOWPLUG_URL',
    ]);
  });
});

describe('progress', () => {
  it('renders a bar with percent, sizes and rate', () => {
    const bar = renderBar(512 * 1024 * 1024, 1024 * 1024 * 1024, 2000, 60);
    expect(bar).toMatch(/^\[#+\.+\] {2}50% 512\.0\/1024\.0 MiB 256\.0 MiB\/s$/);
    expect(bar.length).toBeLessThanOrEqual(60);
  });

  it('logs every tenth on a non-terminal and ignores small downloads', () => {
    const lines: string[] = [];
    const events = new EventEmitter();
    attachProgress(events, { tty: false, write: () => undefined, logger: createLogger({ json: true, write: (l) => lines.push(l) }) });
    for (let b = 0; b <= 100; b += 5) events.emit('progress', { url: 'u', bytes: b * 1024 * 1024, total: 100 * 1024 * 1024 });
    events.emit('progress', { url: 'small', bytes: 10, total: 10 });
    expect(lines.map((l) => (JSON.parse(l) as { percent: number }).percent)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('draws on a terminal and ends the line when installed', () => {
    let out = '';
    const events = new EventEmitter();
    attachProgress(events, { tty: true, write: (t) => (out += t), logger: silentLogger });
    events.emit('progress', { url: 'u', bytes: 2 * 1024 * 1024, total: 2 * 1024 * 1024 });
    events.emit('installed', {});
    expect(out).toMatch(/^\r\[#+\] 100% 2\.0\/2\.0 MiB .*\n$/);
  });
});
