import { afterEach, describe, expect, it } from 'vitest';
import { ENV } from '../../../core/s3/config';
import { ConfigError } from '../../../core/errors';

describe('the default Lambda entry point', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('validates the environment on first use, names the bad variable, and works once it is fixed', async () => {
    const { handler } = await import('../../../lambda/object-to-shadow');
    delete process.env[ENV.targetThings];
    const err = await handler({ Records: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(ENV.targetThings);

    process.env[ENV.targetThings] = 'lamp-1';
    process.env.AWS_REGION = 'us-east-1';
    process.env[ENV.logLevel] = 'silent';
    // An event with nothing to act on needs no AWS call.
    await expect(handler({ Records: [] })).resolves.toEqual({ records: [] });
  });
});
