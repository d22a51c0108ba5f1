import { describe, expect, it } from 'vitest';
import { RequestIdMemory } from '../../../core/button/handle';

describe('RequestIdMemory', () => {
  it('says an id is new the first time and a duplicate after', () => {
    const memory = new RequestIdMemory(10);
    expect(memory.remember('a')).toBe(false);
    expect(memory.remember('a')).toBe(true);
    expect(memory.remember('b')).toBe(false);
  });

  it('stays within its capacity, forgetting the least recently seen first', () => {
    const memory = new RequestIdMemory(3);
    for (const id of ['a', 'b', 'c']) memory.remember(id);
    expect(memory.remember('a')).toBe(true); // refreshes a
    memory.remember('d'); // evicts b
    expect(memory.size).toBe(3);
    expect(memory.remember('a')).toBe(true);
    expect(memory.remember('b')).toBe(false);
  });

  it('refuses a capacity below one', () => {
    expect(() => new RequestIdMemory(0)).toThrow(RangeError);
  });
});
