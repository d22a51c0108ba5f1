import { describe, expect, it } from 'vitest';
import { ENV, OBJECT_SETTINGS as S, objectFunctionEnvironment, parseObjectConfig } from '../../../core/s3/config';
import { ConfigError } from '../../../core/errors';

describe('objectFunctionEnvironment', () => {
  it('builds the environment with defaults, and it parses back to the same settings', () => {
    const env = objectFunctionEnvironment({ targetThings: ['lamp-1', 'lamp-2'], shadowName: 'files' });
    expect(env).toEqual({
      [ENV.targetThings]: 'lamp-1,lamp-2',
      [ENV.thingPrefix]: 'things/',
      [ENV.shadowProperty]: 's3',
      [ENV.shadowName]: 'files',
      [ENV.partSizeBytes]: String(S.partSizeBytes.default),
      [ENV.readConcurrency]: String(S.readConcurrency.default),
      [ENV.parallelBelowMiBPerS]: String(S.parallelBelowMiBPerS.default),
      [ENV.conflictRetries]: String(S.conflictRetries.default),
      [ENV.fanOutAbove]: '50',
      [ENV.logLevel]: 'info',
    });
    expect(parseObjectConfig(env)).toEqual({
      targetThings: ['lamp-1', 'lamp-2'],
      thingPrefix: 'things/',
      shadowProperty: 's3',
      shadowName: 'files',
      partSizeBytes: S.partSizeBytes.default,
      readConcurrency: S.readConcurrency.default,
      parallelBelowMiBPerS: S.parallelBelowMiBPerS.default,
      conflictRetries: S.conflictRetries.default,
      fanOutAbove: 50,
      iotDataEndpoint: undefined,
      logLevel: 'info',
    });
  });
  it('fails at build time on a bad setting', () => {
    expect(() => objectFunctionEnvironment({ targetThings: ['no spaces allowed'] })).toThrow(ConfigError);
  });
});

describe('parseObjectConfig', () => {
  const valid = { [ENV.targetThings]: 'lamp-1' };
  const failure = (env: Record<string, string | undefined>) => {
    try {
      parseObjectConfig(env);
    } catch (err) {
      return err as ConfigError;
    }
    throw new Error('expected a config error');
  };

  it('accepts an empty target list (per-thing keys only)', () => {
    expect(parseObjectConfig({ [ENV.targetThings]: '' }).targetThings).toEqual([]);
  });
  it('reads the single-stream threshold: a whole number of MiB/s, 0 (one stream) or Infinity (ranged from the start)', () => {
    expect(parseObjectConfig(valid).parallelBelowMiBPerS).toBe(200);
    expect(parseObjectConfig({ ...valid, [ENV.parallelBelowMiBPerS]: '0' }).parallelBelowMiBPerS).toBe(0);
    expect(parseObjectConfig({ ...valid, [ENV.parallelBelowMiBPerS]: ' 50 ' }).parallelBelowMiBPerS).toBe(50);
    expect(parseObjectConfig({ ...valid, [ENV.parallelBelowMiBPerS]: 'Infinity' }).parallelBelowMiBPerS).toBe(Infinity);
    const env = objectFunctionEnvironment({ targetThings: [], parallelBelowMiBPerS: Infinity });
    expect(env[ENV.parallelBelowMiBPerS]).toBe('Infinity');
    expect(parseObjectConfig(env).parallelBelowMiBPerS).toBe(Infinity);
    expect(failure({ ...valid, [ENV.parallelBelowMiBPerS]: '1.5' }).variable).toBe(ENV.parallelBelowMiBPerS);
    expect(failure({ ...valid, [ENV.parallelBelowMiBPerS]: '-1' }).variable).toBe(ENV.parallelBelowMiBPerS);
    expect(failure({ ...valid, [ENV.parallelBelowMiBPerS]: 'fast' }).message).toBe(`${ENV.parallelBelowMiBPerS}: expected Infinity or a whole number from 0 to 1000000, got "fast"`);
    expect(() => objectFunctionEnvironment({ targetThings: [], parallelBelowMiBPerS: 12.5 })).toThrow(ConfigError);
  });
  it('names the variable that is missing or wrong', () => {
    expect(failure({}).variable).toBe(ENV.targetThings);
    expect(failure({ ...valid, [ENV.partSizeBytes]: '8MB' }).variable).toBe(ENV.partSizeBytes);
    expect(failure({ ...valid, [ENV.partSizeBytes]: '10' }).message).toMatch(/from 65536 to 268435456/);
    expect(failure({ ...valid, [ENV.readConcurrency]: '0' }).variable).toBe(ENV.readConcurrency);
    expect(failure({ ...valid, [ENV.partSizeBytes]: String(256 * 1024 * 1024), [ENV.readConcurrency]: '4' }).message).toMatch(/read-ahead limit/);
    expect(failure({ ...valid, [ENV.shadowProperty]: 'a.b' }).variable).toBe(ENV.shadowProperty);
    expect(failure({ ...valid, [ENV.shadowName]: 'has space' }).variable).toBe(ENV.shadowName);
    expect(failure({ ...valid, [ENV.thingPrefix]: 'things' }).variable).toBe(ENV.thingPrefix);
    expect(failure({ ...valid, [ENV.iotDataEndpoint]: 'iot.example.com' }).variable).toBe(ENV.iotDataEndpoint);
    expect(failure({ ...valid, [ENV.logLevel]: 'loud' }).variable).toBe(ENV.logLevel);
    expect(failure({ [ENV.targetThings]: 'a,a' }).message).toMatch(/twice/);
    expect(failure({}).code).toBe('OBJECT_CONFIG_INVALID');
  });
});
