import { describe, expect, it } from 'vitest';
import { isTagged } from '../../../src/protocol/value.js';

describe('isTagged', () => {
  it('tells tagged forms from natural values', () => {
    expect(isTagged({ $: 'undefined' })).toBe(true);
    expect(isTagged({ a: 1 })).toBe(false);
    expect(isTagged([{ $: 'more', count: 1 }])).toBe(false);
    expect(isTagged('$')).toBe(false);
    expect(isTagged(null)).toBe(false);
  });
});
