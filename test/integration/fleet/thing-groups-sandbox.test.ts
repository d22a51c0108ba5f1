/**
 * The sandbox's thing groups behind its ListThingsInThingGroup API, through the object function's
 * own look-up (core/fleet/iot-groups.ts) and the real @aws-sdk/client-iot: nested groups listed
 * recursively, a dynamic group by thing-name query, pages past 250 things, a missing group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoTClient } from '@aws-sdk/client-iot';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { listThingGroupPage } from '../../../core/fleet/iot-groups';
import { TargetResolver, ThingGroupNotFoundError } from '../../../core/fleet/targets';
import { CertificateAuthority } from '../../../sandbox/iot/certificate-authority';
import { startControlPlane } from '../../../sandbox/iot/control-plane';
import { ThingGroups } from '../../../sandbox/iot/thing-groups';

let dir: string;
let plane: { port: number; close(): Promise<void> };
let iot: IoTClient;
const registered = new Set<string>();
const groups = new ThingGroups(() => registered);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'thing-groups-'));
  const ca = CertificateAuthority.open(dir);
  const server = ca.serverCertificate();
  plane = await startControlPlane({ host: '127.0.0.1', port: 0, tls: { cert: server.certPem, key: server.keyPem }, groups });
  iot = new IoTClient({
    endpoint: `https://127.0.0.1:${plane.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: ca.certPem }) }),
  });
});
afterAll(async () => {
  iot?.destroy();
  await plane?.close();
  rmSync(dir, { recursive: true, force: true });
});

const resolver = () => new TargetResolver(listThingGroupPage(iot), Date.now);

describe('sandbox thing groups over ListThingsInThingGroup', () => {
  it('lists nested groups recursively, each thing once', async () => {
    groups.create({ name: 'site', things: ['gateway'] });
    groups.create({ name: 'floor-1', parent: 'site', things: ['lamp-1', 'gateway'] });
    groups.create({ name: 'room-101', parent: 'floor-1', things: ['lamp-2'] });
    expect((await resolver().resolve([], ['site'])).things).toEqual(['gateway', 'lamp-1', 'lamp-2']);
    expect((await resolver().resolve([], ['floor-1'])).things).toEqual(['lamp-1', 'gateway', 'lamp-2']);
  });

  it('a dynamic group follows its thing-name query, including things registered later', async () => {
    for (const t of ['pump-1', 'pump-2', 'valve-1']) registered.add(t);
    groups.create({ name: 'pumps', query: 'thingName:pump-*' });
    expect((await resolver().resolve([], ['pumps'])).things).toEqual(['pump-1', 'pump-2']);
    registered.add('pump-3');
    expect((await resolver().resolve([], ['pumps'])).things).toEqual(['pump-1', 'pump-2', 'pump-3']);
  });

  it('reads every page of a group larger than one page (250)', async () => {
    const many = Array.from({ length: 600 }, (_, i) => `sensor-${i}`);
    groups.create({ name: 'sensors', things: many });
    const targets = await resolver().resolve(['sensor-0'], ['sensors']);
    expect(targets.things).toEqual(many);
    expect(targets.groups).toEqual([{ group: 'sensors', members: 600 }]);
  });

  it('a missing group is ThingGroupNotFoundError naming it', async () => {
    await expect(resolver().resolve([], ['ghosts'])).rejects.toBeInstanceOf(ThingGroupNotFoundError);
    await expect(resolver().resolve([], ['ghosts'])).rejects.toThrow(/"ghosts"/);
  });

  it('refuses a malformed group and a query it cannot answer, naming them', () => {
    expect(() => groups.create({ name: 'bad name' })).toThrow(/thing group name "bad name"/);
    expect(() => groups.create({ name: 'q', query: 'attributes.kind:pump' })).toThrow(/thingName:<pattern>/);
    expect(() => groups.create({ name: 'orphan', parent: 'nowhere' })).toThrow(/parent group "nowhere" does not exist/);
  });
});
