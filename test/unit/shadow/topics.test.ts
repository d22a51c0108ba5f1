import { describe, expect, it } from 'vitest';
import { parseShadowRequestTopic, shadowTopics } from '../../../core/shadow/topics';

describe('shadowTopics', () => {
  it('names the classic shadow topics', () => {
    const t = shadowTopics('lamp');
    expect(t.updateDelta).toBe('$aws/things/lamp/shadow/update/delta');
    expect(t.getAccepted).toBe('$aws/things/lamp/shadow/get/accepted');
  });
  it('names the named shadow topics', () => {
    expect(shadowTopics('lamp', 'files').update).toBe('$aws/things/lamp/shadow/name/files/update');
  });
});

describe('parseShadowRequestTopic', () => {
  it('reads thing, shadow name and operation back', () => {
    expect(parseShadowRequestTopic('$aws/things/lamp/shadow/name/files/delete')).toEqual({ thingName: 'lamp', shadowName: 'files', operation: 'delete' });
    expect(parseShadowRequestTopic('$aws/things/lamp/shadow/get')).toEqual({ thingName: 'lamp', operation: 'get' });
  });
  it('ignores reply topics and other topics', () => {
    expect(parseShadowRequestTopic('$aws/things/lamp/shadow/update/accepted')).toBeUndefined();
    expect(parseShadowRequestTopic('iotbutton/G030')).toBeUndefined();
  });
});
