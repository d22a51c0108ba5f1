/**
 * The object function alone in this process, for its peak RSS: one upload (moto's S3) to a thing
 * group of the parent's control plane, batches sent to moto's SQS. Sends {rssMb, baseRssMb,
 * batches, ms} to the parent: its own peak (peakRssBytes) and its peak before the handler ran.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient } from '@aws-sdk/client-iot-data-plane';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { silentLogger } from '../core/logger';
import { listThingGroupPage } from '../core/fleet/iot-groups';
import { sqsEnqueue } from '../core/fleet/sqs-queue';
import { TargetResolver } from '../core/fleet/targets';
import { objectFunctionEnvironment, parseObjectConfig } from '../core/s3/config';
import { S3_COMPATIBLE_ENDPOINT_SETTINGS } from '../core/s3/compatible-endpoint';
import { createHandler } from '../lambda/object-to-shadow';
import { s3EventRecord } from '../test/helpers/s3-event-record';
import { peakRssBytes } from './stats';

const moto = process.env.BENCH_MOTO!;
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = new S3Client({ endpoint: moto, region: 'us-east-1', credentials, ...S3_COMPATIBLE_ENDPOINT_SETTINGS });
const sqs = new SQSClient({ endpoint: moto, region: 'us-east-1', credentials });
const iot = new IoTClient({ endpoint: process.env.BENCH_CONTROL_PLANE!, region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: readFileSync(process.env.BENCH_CA!) }) }) });
await s3.send(new CreateBucketCommand({ Bucket: 'files' }));
const put = await s3.send(new PutObjectCommand({ Bucket: 'files', Key: 'fw.bin', Body: Buffer.alloc(1024, 7) }));
const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'fanout' }))).QueueUrl!;
const handler = createHandler({
  s3,
  iotData: new IoTDataPlaneClient({ endpoint: 'https://127.0.0.1:9', region: 'us-east-1', credentials }),
  config: parseObjectConfig(objectFunctionEnvironment({ targetThings: [], thingGroups: ['big'] })),
  targets: new TargetResolver(listThingGroupPage(iot), Date.now),
  enqueue: sqsEnqueue(sqs, queueUrl),
  logger: silentLogger,
});
const baseRssMb = peakRssBytes() / (1 << 20);
const t0 = performance.now();
const outcome = await handler({ Records: [s3EventRecord({ bucket: 'files', key: 'fw.bin', size: 1024, eTag: (put.ETag ?? '').replace(/"/g, ''), sequencer: '0A', eventTime: new Date().toISOString() })] });
const ms = performance.now() - t0;
const record = outcome.records[0] as { status: string; batches?: number };
const depth = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
if (record.status !== 'queued' || Number(depth.Attributes?.ApproximateNumberOfMessages) !== record.batches) throw new Error(`unexpected outcome ${JSON.stringify(record)}`);
process.send!({ rssMb: peakRssBytes() / (1 << 20), baseRssMb, batches: record.batches, ms });
process.disconnect();
