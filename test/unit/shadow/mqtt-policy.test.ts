/** The sandbox broker's policy, as the stack's IoT policy scopes a thing and a button. */
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe, type MqttIdentity } from '../../../sandbox/iot/mqtt-broker';

const lamp: MqttIdentity = { commonName: 'lamp-1', role: 'thing' };
const button: MqttIdentity = { commonName: 'iotbutton_G030', role: 'button', serial: 'G030' };

describe('MQTT policy', () => {
  it.each([
    ['$aws/things/lamp-1/shadow/update', true],
    ['$aws/things/lamp-1/shadow/name/files/get', true],
    ['iotbutton/G030', true],
    ['$aws/things/lamp-2/shadow/update', false],
    ['$aws/things/lamp-10/shadow/update', false],
    ['$aws/things/lamp-1/shadow/update/accepted', false],
    ['$aws/things/lamp-1/shadow/update/delta', false],
    ['$aws/things/lamp-1/shadow/name/files/update/documents', false],
    ['$aws/things/lamp-1/shadow/get/rejected', false],
    ['other/topic', false],
  ])('a thing may publish to %s: %s', (topic, allowed) => {
    expect(mayPublish(lamp, topic)).toBe(allowed);
  });

  it.each([
    ['$aws/things/lamp-1/shadow/#', true],
    ['$aws/things/lamp-1/shadow/+/accepted', true],
    ['iotbutton/+', true],
    ['$aws/things/+/shadow/update/delta', false],
    ['$aws/things/lamp-1', false],
    ['#', false],
    ['$aws/#', false],
  ])('a thing may subscribe to %s: %s', (filter, allowed) => {
    expect(maySubscribe(lamp, filter)).toBe(allowed);
  });

  it('lets a button publish only on its own topic and subscribe to nothing', () => {
    expect(mayPublish(button, 'iotbutton/G030')).toBe(true);
    expect(mayPublish(button, 'iotbutton/G031')).toBe(false);
    expect(mayPublish(button, '$aws/things/iotbutton_G030/shadow/update')).toBe(false);
    expect(maySubscribe(button, 'iotbutton/G030')).toBe(false);
  });
});
