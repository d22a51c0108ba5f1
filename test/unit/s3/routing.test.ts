import { describe, expect, it } from 'vitest';
import { routeKey } from '../../../core/fleet/targets';

const options = { thingPrefix: 'things/', targetThings: ['lamp-1', 'lamp-2'] };

describe('routeKey', () => {
  it('sends a key under things/<thing>/ to that thing only', () => {
    expect(routeKey('things/kitchen-1/firmware.bin', options)).toEqual({ type: 'things', things: ['kitchen-1'], perThing: true });
    expect(routeKey('things/kitchen-1/deep/er/file', options)).toEqual({ type: 'things', things: ['kitchen-1'], perThing: true });
  });
  it('sends every other key to the default targets', () => {
    expect(routeKey('firmware/v2.bin', options)).toEqual({ type: 'things', things: ['lamp-1', 'lamp-2'], perThing: false });
    expect(routeKey('things/readme.txt', options)).toEqual({ type: 'things', things: ['lamp-1', 'lamp-2'], perThing: false });
  });
  it('skips an invalid thing name, a folder marker, and keys with no target', () => {
    expect(routeKey('things/bad name/x', options)).toMatchObject({ type: 'none', reason: 'invalid-thing-name' });
    expect(routeKey('things/kitchen-1/', options)).toMatchObject({ type: 'none', reason: 'folder-marker' });
    expect(routeKey('x.bin', { thingPrefix: 'things/', targetThings: [] })).toMatchObject({ type: 'none', reason: 'no-default-target' });
  });
});
