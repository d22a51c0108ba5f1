/**
 * What the functions leave for CloudWatch: one embedded-metric line per invocation (failed and
 * skipped clicks, failed shadow writes) and Lambda's request id on every log line. Plugs are real
 * sockets on 127.0.0.1; nothing of AWS is called (no topic configured, an event with no I/O).
 */
import { describe, expect, it } from 'vitest';
import { parseButtonConfig, buttonFunctionEnvironment } from '../../../core/button/config';
import { createLogger } from '../../../core/logger';
import { parseObjectConfig, objectFunctionEnvironment } from '../../../core/s3/config';
import { createHandler as createButtonHandler } from '../../../lambda/button-click';
import { createHandler as createObjectHandler } from '../../../lambda/object-to-shadow';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { closedPort } from '../../helpers/fault-plug';
import { ruleClick } from '../../helpers/button-harness';

function capture(): { lines: Record<string, unknown>[]; write: (line: string) => void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) };
}

describe('the button function', () => {
  it('counts a failed click in its metric line, and logs the request id on every line', async () => {
    const port = await closedPort();
    const metrics = capture();
    const logs = capture();
    const handler = createButtonHandler({
      config: parseButtonConfig(buttonFunctionEnvironment({ defaultTargets: `127.0.0.1:${port}`, plugMode: 'direct' })),
      logger: createLogger({ json: true, level: 'debug', write: logs.write, fields: { service: 'button-click' } }),
      writeMetrics: metrics.write,
      clock: () => 1_700_000_000_000,
    });
    const outcome = await handler(ruleClick('G030', 'SINGLE'), { awsRequestId: 'lambda-req-1' });
    expect(outcome.clicks.map((c) => c.status)).toEqual(['failed']);
    expect(metrics.lines).toEqual([expect.objectContaining({ service: 'button-click', ClicksFailed: 1, ClicksSkipped: 0 })]);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const line of logs.lines) expect(line).toMatchObject({ awsRequestId: 'lambda-req-1', service: 'button-click' });
  });

  it('counts a click too old to act on as skipped', async () => {
    const metrics = capture();
    const handler = createButtonHandler({
      config: parseButtonConfig(buttonFunctionEnvironment({ defaultTargets: '127.0.0.1:9', plugMode: 'direct' })),
      logger: createLogger({ level: 'silent' }),
      writeMetrics: metrics.write,
      clock: () => 1_700_000_000_000,
    });
    await handler(ruleClick('G030', 'SINGLE', { receivedAt: 1_600_000_000_000 }), { awsRequestId: 'r' });
    expect(metrics.lines).toEqual([expect.objectContaining({ ClicksFailed: 0, ClicksSkipped: 1 })]);
  });
});

describe('the S3 function', () => {
  it('writes one metric line and puts the request id on every log line', async () => {
    const metrics = capture();
    const logs = capture();
    const config = parseObjectConfig({ ...objectFunctionEnvironment({ targetThings: ['t1'], iotDataEndpoint: 'https://127.0.0.1:9' }) });
    const handler = createObjectHandler({
      s3: new S3Client({ region: 'eu-west-1' }),
      iotData: new IoTDataPlaneClient({ region: 'eu-west-1' }),
      config,
      logger: createLogger({ json: true, level: 'debug', write: logs.write, fields: { service: 'object-to-shadow' } }),
      writeMetrics: metrics.write,
      clock: () => 1_700_000_000_000,
    });
    // An event this function does not handle: no S3 or IoT call is made.
    const outcome = await handler({ Records: [{ eventName: 'ObjectRestore:Completed' } as never] }, { awsRequestId: 'lambda-req-2' });
    expect(outcome.records).toEqual([expect.objectContaining({ status: 'ignored' })]);
    expect(metrics.lines).toEqual([expect.objectContaining({ service: 'object-to-shadow', ShadowWritesFailed: 0 })]);
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const line of logs.lines) expect(line).toMatchObject({ awsRequestId: 'lambda-req-2', service: 'object-to-shadow' });
  });
});
