import { describe, expect, it } from 'vitest';
import { BUTTON_SETTINGS } from '../../../core/button/settings';
import { DOCUMENTED_BUTTON_SETTINGS } from '../../../core/button/settings-text';
import { OBJECT_SETTINGS } from '../../../core/s3/settings';
import { FANOUT_SETTINGS } from '../../../core/fleet/settings';
import { AGENT_SETTINGS } from '../../../core/settings/agent';
import { byteSize, endpoint, integer, integerOrInfinity, listOf, matching } from '../../../core/settings/codecs';
import { envName, settingsOf, SettingValueError } from '../../../core/settings/schema';
import { STACK_SETTINGS } from '../../../core/settings/stack';
import { resolveAgentOptions } from '../../../agent/options';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SettingValueError);
    return (err as SettingValueError).problem;
  }
  throw new Error('expected a SettingValueError');
}

describe('the settings schemas', () => {
  const functionSettings = [...settingsOf(BUTTON_SETTINGS), ...settingsOf(OBJECT_SETTINGS), ...settingsOf(FANOUT_SETTINGS)];

  it('name each environment variable after its field, and feed context keys only into function settings', () => {
    expect(envName('maxClickAgeSeconds')).toBe('SHADOWPLUG_MAX_CLICK_AGE_SECONDS');
    expect(envName('parallelBelowMiBPerS')).toBe('SHADOWPLUG_PARALLEL_BELOW_MIB_PER_S');
    expect(envName('tplinkUsername')).toBe('SHADOWPLUG_TPLINK_USERNAME');
    const fields = functionSettings.map(([name]) => name);
    for (const [key, s] of settingsOf(STACK_SETTINGS)) if (s.feeds !== undefined) expect(fields, key).toContain(s.feeds);
  });

  it('give every flag once', () => {
    const flags = settingsOf(AGENT_SETTINGS).map(([, s]) => s.flag!.split(' ')[0]);
    expect(new Set(flags).size).toBe(flags.length);
  });

  it.each([...functionSettings, ...settingsOf(STACK_SETTINGS)].filter(([, s]) => s.default !== undefined && s.format(s.default) !== ''))('reads back the default of %s from its own text', (_name, s) => {
    expect(s.parse(s.format(s.default))).toEqual(s.default);
  });

  it('describe every setting', () => {
    const documented = [...settingsOf(DOCUMENTED_BUTTON_SETTINGS), ...settingsOf(OBJECT_SETTINGS), ...settingsOf(STACK_SETTINGS), ...settingsOf(AGENT_SETTINGS)];
    for (const [name, s] of documented) expect(s.description?.length, name).toBeGreaterThan(5);
    expect(Object.keys(DOCUMENTED_BUTTON_SETTINGS)).toEqual(Object.keys(BUTTON_SETTINGS));
  });
});

describe('codecs', () => {
  it('whole numbers: text and JSON numbers in range, nothing else', () => {
    const c = integer(1, 10);
    expect(c.parse(' 7 ')).toBe(7);
    expect(c.coerce!(10)).toBe(10);
    expect(problem(() => c.parse('7.5'))).toBe('expected a whole number from 1 to 10, got "7.5"');
    expect(problem(() => c.coerce!(11))).toBe('expected a whole number from 1 to 10, got 11');
    expect(problem(() => c.coerce!(true))).toMatch(/got true/);
  });

  it('Infinity where a number may mean "always"', () => {
    const c = integerOrInfinity(0, 5);
    expect(c.parse('Infinity')).toBe(Infinity);
    expect(c.format(Infinity)).toBe('Infinity');
    expect(problem(() => c.parse('fast'))).toBe('expected Infinity or a whole number from 0 to 5, got "fast"');
  });

  it('lists: comma-separated or JSON, no duplicates, bounded', () => {
    const c = listOf(matching(/^[a-z]+$/, 'a word'), { min: 1, max: 2, noun: 'word' });
    expect(c.parse('a, b')).toEqual(['a', 'b']);
    expect(c.parse('["a"]')).toEqual(['a']);
    expect(problem(() => c.parse('a,a'))).toBe('"a" is listed twice');
    expect(problem(() => c.parse('a,b,c'))).toMatch(/at most 2/);
    expect(problem(() => c.parse('[1'))).toMatch(/is not valid JSON/);
  });

  it('sizes and endpoints', () => {
    expect(byteSize().parse('2KiB')).toBe(2048);
    expect(byteSize().parse('1.5k')).toBe(1536);
    expect(endpoint(8883).parse('iot.example.com')).toEqual({ host: 'iot.example.com', port: 8883 });
    expect(endpoint(8883).parse('[fd00::1]:9000')).toEqual({ host: 'fd00::1', port: 9000 });
    expect(problem(() => endpoint(8883).parse('h:0'))).toMatch(/port must be 1\.\.65535/);
  });

  it('one shadow-name pattern everywhere, with the $ the shadow service allows', () => {
    expect(OBJECT_SETTINGS.shadowName.parse('$files')).toBe('$files');
    expect(STACK_SETTINGS.shadowName.parse('$files')).toBe('$files');
    expect(AGENT_SETTINGS.shadowName.parse('$files')).toBe('$files');
  });

  it('click actions: one parser for context, environment and flag', () => {
    const c = BUTTON_SETTINGS.clickActions;
    expect(c.parse('single=ON')).toEqual({ SINGLE: 'on', DOUBLE: 'toggle', LONG: 'toggle' });
    expect(c.coerce!({ LONG: 'none' })).toEqual({ SINGLE: 'toggle', DOUBLE: 'toggle', LONG: 'none' });
    expect(c.parse('{"DOUBLE":"off"}')).toEqual({ SINGLE: 'toggle', DOUBLE: 'off', LONG: 'toggle' });
    expect(problem(() => c.parse('SINGLE=dim'))).toBe('unknown click action "dim" for SINGLE (expected toggle, on, off, none)');
  });
});

describe('agent --endpoint', () => {
  const required = { cert: 'c', key: 'k', thingName: 't', dest: 'd' };
  it('takes host:port, or a host and --port for old command lines', async () => {
    expect(await resolveAgentOptions({ ...required, endpoint: 'broker.lan:8884' })).toMatchObject({ endpoint: 'broker.lan', port: 8884 });
    expect(await resolveAgentOptions({ ...required, endpoint: 'broker.lan', port: '8885' })).toMatchObject({ endpoint: 'broker.lan', port: 8885 });
    expect(await resolveAgentOptions({ ...required, endpoint: 'broker.lan:8884', port: '8884' })).toMatchObject({ port: 8884 });
  });
  it('refuses a port given twice, differently', async () => {
    await expect(resolveAgentOptions({ ...required, endpoint: 'broker.lan:8884', port: '8885' })).rejects.toThrow(/disagree/);
  });
});
