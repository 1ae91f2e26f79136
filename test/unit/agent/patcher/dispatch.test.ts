import { describe, expect, it } from 'vitest';
import { patch } from './recording-hook.js';

describe('promise identity and settlement', () => {
  it('returns the very same promise object and reports its settle', async () => {
    let made: Promise<number> | undefined;
    const holder = { f: () => (made = new Promise<number>((r) => setTimeout(() => r(5), 5))) };
    const { hook, unpatch } = patch(holder, 'f');
    const p = holder.f();
    expect(p).toBe(made);
    expect(await p).toBe(5);
    await new Promise((r) => setImmediate(r));
    expect(hook.settled).toEqual([{ rejected: false, value: 5 }]);
    unpatch();
  });

  it('never calls then on a foreign thenable', () => {
    let thenCalls = 0;
    const lazy = { then: () => void thenCalls++ };
    const holder = { f: () => lazy };
    const { hook, unpatch } = patch(holder, 'f');
    expect(holder.f()).toBe(lazy);
    expect(thenCalls).toBe(0);
    expect(hook.endings[0]?.value).toBe(lazy);
    unpatch();
  });
});
