/**
 * The object function's group look-up (core/fleet/iot-groups.ts through the target resolver)
 * against moto's IoT control plane: static groups, a member added after the first look-up, an
 * empty group, a missing group. moto lists a group's own things only (no `recursive`, no pages, no
 * dynamic groups): nesting, dynamic groups and pagination are checked against the sandbox's
 * control plane (thing-groups-sandbox.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, IoTClient } from '@aws-sdk/client-iot';
import { listThingGroupPage } from '../../../core/fleet/iot-groups';
import { TargetResolver, ThingGroupNotFoundError } from '../../../core/fleet/targets';
import { startMotoServer, type MotoServer } from '../../helpers/s3-peers';

let moto: MotoServer;
let iot: IoTClient;

beforeAll(async () => {
  moto = await startMotoServer();
  iot = new IoTClient({ endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});
afterAll(async () => {
  iot?.destroy();
  await moto?.close();
});

async function group(name: string, things: string[]): Promise<void> {
  await iot.send(new CreateThingGroupCommand({ thingGroupName: name }));
  for (const t of things) await addThing(name, t);
}
async function addThing(groupName: string, thing: string): Promise<void> {
  await iot.send(new CreateThingCommand({ thingName: thing })).catch(() => undefined);
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: groupName, thingName: thing }));
}

describe('thing groups against moto', () => {
  it('resolves a static group\'s members beside the static names', async () => {
    await group('kitchen', ['oven-1', 'fridge-1']);
    const resolver = new TargetResolver(listThingGroupPage(iot), Date.now);
    const targets = await resolver.resolve(['hub'], ['kitchen']);
    expect(targets.things.sort()).toEqual(['fridge-1', 'hub', 'oven-1']);
    expect(targets.groups).toEqual([{ group: 'kitchen', members: 2 }]);
  });

  it('a device added to the group after a look-up is a target once the cache time has passed', async () => {
    await group('garage', ['door-1']);
    let now = 0;
    const resolver = new TargetResolver(listThingGroupPage(iot), () => now, { ttlMs: 60_000 });
    expect((await resolver.resolve([], ['garage'])).things).toEqual(['door-1']);
    await addThing('garage', 'door-2');
    now = 60_000;
    expect((await resolver.resolve([], ['garage'])).things.sort()).toEqual(['door-1', 'door-2']);
  });

  it('an empty group resolves to no targets and says so', async () => {
    await group('empty-shed', []);
    const targets = await new TargetResolver(listThingGroupPage(iot), Date.now).resolve([], ['empty-shed']);
    expect(targets).toEqual({ things: [], groups: [{ group: 'empty-shed', members: 0 }] });
  });

  it('a missing group is an error naming it', async () => {
    const err = await new TargetResolver(listThingGroupPage(iot), Date.now).resolve([], ['no-such-group']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThingGroupNotFoundError);
    expect((err as ThingGroupNotFoundError).group).toBe('no-such-group');
    expect((err as Error).message).toMatch(/thing group "no-such-group" does not exist/);
  });
});
