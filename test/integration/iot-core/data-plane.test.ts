/**
 * The data-plane HTTPS API, driven by `@aws-sdk/client-iot-data-plane` unchanged (endpoint +
 * a request handler trusting the sandbox CA), with the SDK's own error types. Each test has a
 * thing of its own, its shadows seeded to the state the test starts from.
 */
import { request } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictException,
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  InvalidRequestException,
  type IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
  RequestEntityTooLargeException,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { shadowTopics } from '../../../core/shadow/topics';
import { seedShadows, shadowDevice, startTestIotCore, thingNamer, type ShadowDevice, type ShadowSeed, type TestIotCore } from '../../helpers/iot-core-clients';

const json = (payload: Uint8Array | undefined): Record<string, unknown> => JSON.parse(Buffer.from(payload ?? []).toString()) as Record<string, unknown>;
const body = (doc: unknown) => new TextEncoder().encode(JSON.stringify(doc));

describe('data-plane API with the AWS SDK', () => {
  let iot: TestIotCore;
  let sdk: IoTDataPlaneClient;
  const nextThing = thingNamer('kettle');
  const open: ShadowDevice[] = [];
  const FIRMWARE = { state: { desired: { s3: { key: 'fw.bin', etag: 'abc' } } } };

  beforeAll(async () => {
    iot = await startTestIotCore({ sharedDeviceKey: true });
    sdk = iot.createDataPlaneClient();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((d) => d.close()));
  });

  afterAll(async () => {
    sdk?.destroy();
    await iot?.close();
  });

  /** A fresh thing's device, subscribed to its shadow topics after `seed` was applied. */
  async function device(seed: ShadowSeed = []) {
    const d = await shadowDevice(iot, nextThing(), seed);
    open.push(d);
    return { ...d, t: shadowTopics(d.thing) };
  }

  it('raises ResourceNotFoundException for a shadow that does not exist', async () => {
    const thing = nextThing();
    const err = await sdk.send(new GetThingShadowCommand({ thingName: thing })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect((err as Error).message).toBe(`No shadow exists with name: ${thing}`);
  });

  it('updates over HTTP and publishes the same MQTT accepted, delta and documents messages', async () => {
    const { thing, t, inbox } = await device();
    const out = await sdk.send(new UpdateThingShadowCommand({ thingName: thing, payload: body({ ...FIRMWARE, clientToken: 'http-1' }) }));
    const reply = json(out.payload);
    expect(reply).toMatchObject({ state: { desired: { s3: { key: 'fw.bin', etag: 'abc' } } }, version: 1, clientToken: 'http-1' });
    expect(await inbox.next(t.updateAccepted)).toEqual(reply);
    expect(await inbox.next(t.updateDelta)).toMatchObject({ state: { s3: { key: 'fw.bin', etag: 'abc' } }, version: 1, clientToken: 'http-1' });
    expect(await inbox.next(t.updateDocuments)).toMatchObject({ current: { version: 1 } });
  });

  it('returns the document with delta on GetThingShadow', async () => {
    const { thing, t, inbox, publish } = await device([FIRMWARE]);
    await publish(t.update, { state: { reported: { s3: { key: 'fw.bin', etag: 'old' } } } });
    await inbox.next(t.updateAccepted);
    const doc = json((await sdk.send(new GetThingShadowCommand({ thingName: thing }))).payload);
    expect(doc).toMatchObject({
      state: { desired: { s3: { key: 'fw.bin', etag: 'abc' } }, reported: { s3: { key: 'fw.bin', etag: 'old' } }, delta: { s3: { etag: 'abc' } } },
      version: 2,
    });
  });

  it('raises ConflictException for a stale version', async () => {
    const thing = nextThing();
    seedShadows(iot, thing, [FIRMWARE, { state: { reported: { s3: { key: 'fw.bin', etag: 'old' } } } }]);
    const err = await sdk
      .send(new UpdateThingShadowCommand({ thingName: thing, payload: body({ state: { desired: { on: true } }, version: 1 }) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictException);
    expect((err as Error).message).toBe('Version conflict');
  });

  it('raises InvalidRequestException for bad documents and RequestEntityTooLargeException past 8 KB', async () => {
    const thing = nextThing();
    const deep = { state: { desired: { 1: { 2: { 3: { 4: { 5: { 6: { 7: 'x' } } } } } } } } };
    const tooDeep = await sdk.send(new UpdateThingShadowCommand({ thingName: thing, payload: body(deep) })).catch((e: unknown) => e);
    expect(tooDeep).toBeInstanceOf(InvalidRequestException);
    expect((tooDeep as Error).message).toBe('JSON contains too many levels of nesting; maximum is 6');
    const notJson = await sdk.send(new UpdateThingShadowCommand({ thingName: thing, payload: new TextEncoder().encode('nope') })).catch((e: unknown) => e);
    expect(notJson).toBeInstanceOf(InvalidRequestException);
    const big = await sdk
      .send(new UpdateThingShadowCommand({ thingName: thing, payload: body({ state: { desired: { blob: 'y'.repeat(8200) } } }) }))
      .catch((e: unknown) => e);
    expect(big).toBeInstanceOf(RequestEntityTooLargeException);
    expect((big as Error).message).toBe('The payload exceeds the maximum size allowed');
  });

  it('serves named shadows and lists them', async () => {
    const { thing, inbox } = await device([FIRMWARE]);
    await sdk.send(new UpdateThingShadowCommand({ thingName: thing, shadowName: 'files', payload: body({ state: { desired: { a: 1 } } }) }));
    await sdk.send(new UpdateThingShadowCommand({ thingName: thing, shadowName: 'power', payload: body({ state: { desired: { on: true } } }) }));
    const named = shadowTopics(thing, 'files');
    expect(await inbox.next(named.updateDelta)).toMatchObject({ state: { a: 1 } });
    const list = await sdk.send(new ListNamedShadowsForThingCommand({ thingName: thing }));
    expect(list.results).toEqual(['files', 'power']);
    const page = await sdk.send(new ListNamedShadowsForThingCommand({ thingName: thing, pageSize: 1 }));
    expect(page.results).toEqual(['files']);
    const rest = await sdk.send(new ListNamedShadowsForThingCommand({ thingName: thing, pageSize: 1, nextToken: page.nextToken! }));
    expect(rest).toMatchObject({ results: ['power'] });
    expect(rest.nextToken).toBeUndefined();
    const classic = json((await sdk.send(new GetThingShadowCommand({ thingName: thing }))).payload);
    expect(classic.state).toMatchObject(FIRMWARE.state);
    expect(classic.state).not.toHaveProperty('desired.a');
  });

  it('answers a malformed path escape and an unknown operation with typed errors, and keeps serving', async () => {
    const thing = nextThing();
    seedShadows(iot, thing, [FIRMWARE]);
    const raw = (method: string, path: string) =>
      new Promise<{ status: number; type: string | undefined }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: iot.dataPlane.port, method, path, ca: iot.ca.certPem, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['x-amzn-errortype'] as string | undefined }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await raw('GET', '/things/%E0%A4%A/shadow')).toEqual({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('GET', '/things/a%2Fb/shadow')).toEqual({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('GET', '/nothing/here')).toEqual({ status: 404, type: 'UnknownOperationException' });
    expect(await raw('PUT', `/things/${thing}/shadow`)).toEqual({ status: 405, type: 'MethodNotAllowedException' });
    await expect(sdk.send(new GetThingShadowCommand({ thingName: thing }))).resolves.toBeDefined();
  });

  it('deletes a shadow, publishes delete/accepted, then answers 404 and keeps the version', async () => {
    const { thing, inbox } = await device([
      { state: { desired: { a: 1 } }, shadowName: 'files' },
      { state: { desired: { on: true } }, shadowName: 'power' },
    ]);
    const out = json((await sdk.send(new DeleteThingShadowCommand({ thingName: thing, shadowName: 'files' }))).payload);
    expect(out).toMatchObject({ version: 1 });
    expect(await inbox.next(shadowTopics(thing, 'files').deleteAccepted)).toMatchObject({ version: 1 });
    await expect(sdk.send(new GetThingShadowCommand({ thingName: thing, shadowName: 'files' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(sdk.send(new DeleteThingShadowCommand({ thingName: thing, shadowName: 'files' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    const again = json((await sdk.send(new UpdateThingShadowCommand({ thingName: thing, shadowName: 'files', payload: body({ state: { reported: { a: 1 } } }) }))).payload);
    expect(again.version).toBe(2);
    expect((await sdk.send(new ListNamedShadowsForThingCommand({ thingName: thing }))).results).toEqual(['files', 'power']);
  });
});
