/**
 * The one device policy: what a thing may do over MQTT, as the stack deploys it (with the
 * thing-name variable) and as the sandbox broker enforces it (evaluated for a concrete thing).
 */
import { describe, expect, it } from 'vitest';
import { buttonPolicy, CLASSIC_SHADOW, devicePolicy, shadowScope, type ShadowScope } from '../../../core/iot-policy/device-policy';
import { iotPolicyDocument, isAllowed, policyCharacters, THING_NAME_VARIABLE, type IotAction } from '../../../core/iot-policy/policy';

const lamp = { thingName: 'lamp-1' };
const classic = devicePolicy({ shadows: [CLASSIC_SHADOW] });
const named = devicePolicy({ shadows: [shadowScope('files')] });
const plugs = devicePolicy({ shadows: [CLASSIC_SHADOW, { kind: 'named-prefix', prefix: 'plug-' }] });

describe('the device policy for the classic shadow', () => {
  it.each([
    ['$aws/things/lamp-1/shadow/get', true],
    ['$aws/things/lamp-1/shadow/update', true],
    ['$aws/things/lamp-1/shadow/delete', false],
    ['$aws/things/lamp-1/shadow/name/files/update', false],
    ['$aws/things/lamp-2/shadow/update', false],
    ['$aws/things/lamp-10/shadow/update', false],
    ['$aws/things/lamp-1/shadow/update/accepted', false],
    ['$aws/things/lamp-1/shadow/update/delta', false],
    ['$aws/things/lamp-1/shadow/get/rejected', false],
    ['iotbutton/G030', false],
    ['other/topic', false],
  ])('lets lamp-1 publish to %s: %s', (topic, allowed) => {
    expect(isAllowed(classic, 'iot:Publish', topic, lamp)).toBe(allowed);
  });

  it.each([
    ['$aws/things/lamp-1/shadow/update/delta', true],
    ['$aws/things/lamp-1/shadow/get/accepted', true],
    ['$aws/things/lamp-1/shadow/#', true],
    ['$aws/things/lamp-1/shadow/+/accepted', true],
    ['$aws/things/lamp-1/#', false],
    ['$aws/things/+/shadow/update/delta', false],
    ['$aws/things/lamp-2/shadow/update/delta', false],
    ['$aws/things/lamp-1', false],
    ['iotbutton/+', false],
    ['#', false],
    ['$aws/#', false],
  ])('lets lamp-1 subscribe to %s: %s', (filter, allowed) => {
    expect(isAllowed(classic, 'iot:Subscribe', filter, lamp)).toBe(allowed);
  });

  it("lets a thing receive its own shadow's replies only", () => {
    expect(isAllowed(classic, 'iot:Receive', '$aws/things/lamp-1/shadow/update/delta', lamp)).toBe(true);
    expect(isAllowed(classic, 'iot:Receive', '$aws/things/lamp-2/shadow/update/delta', lamp)).toBe(false);
    expect(isAllowed(classic, 'iot:Receive', 'iotbutton/G030', lamp)).toBe(false);
  });

  it('lets a certificate connect only with the client id of its own attached thing', () => {
    expect(isAllowed(classic, 'iot:Connect', 'lamp-1', lamp)).toBe(true);
    expect(isAllowed(classic, 'iot:Connect', 'lamp-2', lamp)).toBe(false);
    expect(isAllowed(classic, 'iot:Connect', 'lamp-1', {})).toBe(false);
  });

  it('never lets an action through a resource of another type', () => {
    const subscribeOnly = [{ sid: 'S', actions: ['iot:Publish', 'iot:Subscribe'] as IotAction[], resources: [{ type: 'topicfilter' as const, name: 'a/*' }] }];
    expect(isAllowed(subscribeOnly, 'iot:Subscribe', 'a/b')).toBe(true);
    expect(isAllowed(subscribeOnly, 'iot:Publish', 'a/b')).toBe(false);
  });
});

describe('the device policy for a named shadow', () => {
  it('allows that shadow only, never the classic one or a longer name', () => {
    expect(isAllowed(named, 'iot:Publish', '$aws/things/lamp-1/shadow/name/files/update', lamp)).toBe(true);
    expect(isAllowed(named, 'iot:Subscribe', '$aws/things/lamp-1/shadow/name/files/update/delta', lamp)).toBe(true);
    expect(isAllowed(named, 'iot:Publish', '$aws/things/lamp-1/shadow/update', lamp)).toBe(false);
    expect(isAllowed(named, 'iot:Publish', '$aws/things/lamp-1/shadow/name/filesx/update', lamp)).toBe(false);
    expect(isAllowed(named, 'iot:Subscribe', '$aws/things/lamp-1/shadow/name/filesx/update/delta', lamp)).toBe(false);
    expect(isAllowed(named, 'iot:Publish', '$aws/things/lamp-1/shadow/name/files/delete', lamp)).toBe(false);
  });
});

describe('a family of named shadows (plug-<id>)', () => {
  it("allows every plug shadow of the thing itself and none of another thing's", () => {
    for (const id of ['1', 'hall', 'x'.repeat(59)]) {
      expect(isAllowed(plugs, 'iot:Publish', `$aws/things/lamp-1/shadow/name/plug-${id}/update`, lamp)).toBe(true);
      expect(isAllowed(plugs, 'iot:Subscribe', `$aws/things/lamp-1/shadow/name/plug-${id}/update/delta`, lamp)).toBe(true);
      expect(isAllowed(plugs, 'iot:Publish', `$aws/things/lamp-2/shadow/name/plug-${id}/update`, lamp)).toBe(false);
    }
    expect(isAllowed(plugs, 'iot:Publish', '$aws/things/lamp-1/shadow/name/files/update', lamp)).toBe(false);
  });

  it('costs the policy the same whatever the number of plugs', () => {
    expect(plugs.flatMap((s) => s.resources)).toHaveLength(classic.flatMap((s) => s.resources).length + 4);
  });
});

describe("the thing-name variable and the policy's wildcards", () => {
  it('matches a thing name literally (its characters are no wildcards)', () => {
    const p = devicePolicy({ shadows: [CLASSIC_SHADOW] });
    expect(isAllowed(p, 'iot:Publish', '$aws/things/a:b_c-d/shadow/update', { thingName: 'a:b_c-d' })).toBe(true);
    expect(isAllowed(p, 'iot:Publish', '$aws/things/aXb/shadow/update', { thingName: 'a.b' })).toBe(false);
  });

  it('can be built for one concrete thing instead of the variable', () => {
    const p = devicePolicy({ shadows: [CLASSIC_SHADOW], thing: 'lamp-1' });
    expect(JSON.stringify(p)).not.toContain(THING_NAME_VARIABLE);
    expect(isAllowed(p, 'iot:Publish', '$aws/things/lamp-1/shadow/update')).toBe(true);
    expect(isAllowed(p, 'iot:Publish', '$aws/things/lamp-2/shadow/update')).toBe(false);
  });
});

describe('the button policy', () => {
  it('lets a button publish only on its own topic and subscribe to nothing', () => {
    const button = buttonPolicy('G030', 'iotbutton_G030');
    expect(isAllowed(button, 'iot:Connect', 'iotbutton_G030')).toBe(true);
    expect(isAllowed(button, 'iot:Publish', 'iotbutton/G030')).toBe(true);
    expect(isAllowed(button, 'iot:Publish', 'iotbutton/G031')).toBe(false);
    expect(isAllowed(button, 'iot:Publish', '$aws/things/iotbutton_G030/shadow/update')).toBe(false);
    expect(isAllowed(button, 'iot:Subscribe', 'iotbutton/G030')).toBe(false);
  });
});

describe('the policy document and its size', () => {
  // https://docs.aws.amazon.com/general/latest/gr/iot-core.html#limits_iot (policy document: 2,048 characters excluding whitespace)
  const LIMIT = 2048;
  const arn = (r: { type: string; name: string }) => `arn:aws:iot:ap-southeast-2:123456789012:${r.type}/${r.name}`;
  const alias = {
    Sid: 'BuyDownloadCredentials',
    Effect: 'Allow' as const,
    Action: ['iot:AssumeRoleWithCertificate'],
    Resource: [`arn:aws:iot:ap-southeast-2:123456789012:rolealias/${'r'.repeat(128)}`],
  };
  const size = (shadows: ShadowScope[]) => policyCharacters(iotPolicyDocument(devicePolicy({ shadows }), arn, [alias]));
  const plugFamily: ShadowScope = { kind: 'named-prefix', prefix: 'plug-' };

  it('stays within 2,048 characters for the longest shadow name, with room for the plug shadows', () => {
    expect(size([shadowScope('n'.repeat(64)), plugFamily])).toBeLessThanOrEqual(LIMIT);
    expect(size([CLASSIC_SHADOW, plugFamily])).toBeLessThanOrEqual(LIMIT);
  });

  it('counts characters without whitespace, as AWS does', () => {
    expect(policyCharacters({ a: 'b c' })).toBe('{"a":"bc"}'.length);
  });

  it('renders the attached-thing condition on connect only', () => {
    const doc = iotPolicyDocument(classic, arn);
    expect(doc.Statement.map((s) => s.Condition)).toEqual([{ Bool: { 'iot:Connection.Thing.IsAttached': 'true' } }, undefined, undefined, undefined]);
  });
});

describe('the device policy with IoT Jobs (roll-out mode)', () => {
  const withJobs = devicePolicy({ shadows: [CLASSIC_SHADOW], jobs: true });
  it("lets a thing use its own job topics only, and adds nothing when jobs are off", () => {
    expect(isAllowed(withJobs, 'iot:Publish', '$aws/things/lamp-1/jobs/start-next', lamp)).toBe(true);
    expect(isAllowed(withJobs, 'iot:Publish', '$aws/things/lamp-1/jobs/sp-1/update', lamp)).toBe(true);
    expect(isAllowed(withJobs, 'iot:Subscribe', '$aws/things/lamp-1/jobs/+/update/accepted', lamp)).toBe(true);
    expect(isAllowed(withJobs, 'iot:Receive', '$aws/things/lamp-1/jobs/notify-next', lamp)).toBe(true);
    expect(isAllowed(withJobs, 'iot:Publish', '$aws/things/lamp-2/jobs/start-next', lamp)).toBe(false);
    expect(isAllowed(withJobs, 'iot:Subscribe', '$aws/things/+/jobs/notify-next', lamp)).toBe(false);
    expect(isAllowed(withJobs, 'iot:Receive', '$aws/things/lamp-2/jobs/notify-next', lamp)).toBe(false);
    expect(isAllowed(classic, 'iot:Publish', '$aws/things/lamp-1/jobs/start-next', lamp)).toBe(false);
  });
});
