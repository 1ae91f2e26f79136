/**
 * The promise hook's lifetime (patcher/promise-watch.ts): on while a watched promise is
 * pending, and taken off at the check phase after the last one settled, not at once, so
 * that an async function awaited in a loop does not install and remove it on every call.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { pendingWatches, promiseHookOn, watchPromise } from '../../../../src/agent/patcher/promise-watch.js';

const nextCheckPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('promise hook lifetime', () => {
  it('stays on across back-to-back watches and goes off at the next check phase', async () => {
    await nextCheckPhase();
    expect(promiseHookOn()).toBe(false);
    const settled: unknown[] = [];
    const hook = { settle: (_token: object, _rejected: boolean, value: unknown): void => void settled.push(value) };
    for (let i = 0; i < 3; i++) {
      const promise = Promise.resolve(i);
      watchPromise(promise, [hook, {}]);
      expect(promiseHookOn()).toBe(true);
      expect(await promise).toBe(i);
      expect(pendingWatches()).toBe(0);
      // Settled, yet still on: the next call would have turned it back on.
      expect(promiseHookOn()).toBe(true);
    }
    expect(settled).toEqual([0, 1, 2]);
    await nextCheckPhase();
    expect(promiseHookOn()).toBe(false);
  });

  it('a watch made before the late removal runs keeps the hook on', async () => {
    const hook = { settle: (): void => {} };
    const first = Promise.resolve(1);
    watchPromise(first, [hook, {}]);
    await first;
    let release!: (value: number) => void;
    const second = new Promise<number>((resolve) => (release = resolve));
    watchPromise(second, [hook, {}]);
    await nextCheckPhase();
    expect(promiseHookOn()).toBe(true);
    release(2);
    await second;
    await nextCheckPhase();
    expect(promiseHookOn()).toBe(false);
  });
});

describe('where a watch is kept', () => {
  it('leaves no trace the program can see on the promise, and watches it once while pending', async () => {
    const settled: unknown[] = [];
    const hook = { settle: (_token: object, _rejected: boolean, value: unknown): void => void settled.push(value) };
    let release!: (value: number) => void;
    const promise = new Promise<number>((resolve) => (release = resolve));
    const before = { keys: Reflect.ownKeys(promise), inspect: inspect(promise), extensible: Object.isExtensible(promise) };
    watchPromise(promise, [hook, {}]);
    // Returned twice while pending: one watch, one settle.
    watchPromise(promise, [hook, {}]);
    expect(pendingWatches()).toBe(1);
    expect({ keys: Reflect.ownKeys(promise), inspect: inspect(promise), extensible: Object.isExtensible(promise) }).toEqual(before);
    release(7);
    await promise;
    expect(settled).toEqual([7]);
    expect(Reflect.ownKeys(promise)).toEqual([]);
    // Released: returned again after it settled, it is watched again.
    watchPromise(promise, [hook, {}]);
    await promise;
    await promise;
    expect(settled).toEqual([7, 7]);
  });

  it('watches a frozen promise (the program froze it before returning it)', async () => {
    const settled: unknown[] = [];
    const hook = { settle: (_token: object, _rejected: boolean, value: unknown): void => void settled.push(value) };
    const promise = Object.freeze(Promise.resolve(3));
    watchPromise(promise, [hook, {}]);
    expect(await promise).toBe(3);
    await Promise.resolve();
    expect(settled).toEqual([3]);
    expect(Object.isFrozen(promise)).toBe(true);
    expect(Reflect.ownKeys(promise)).toEqual([]);
  });
});

describe('a program that stays on microtasks', () => {
  it('turns the hook off after enough promises made with nothing pending, before any check phase', async () => {
    await nextCheckPhase();
    const hook = { settle: (): void => {} };
    const watched = Promise.resolve(1);
    watchPromise(watched, [hook, {}]);
    await watched;
    expect(pendingWatches()).toBe(0);
    expect(promiseHookOn()).toBe(true);
    // An await loop: promises, no check phase.
    for (let i = 0; i < 700; i++) await Promise.resolve(i);
    expect(promiseHookOn()).toBe(false);
    // And a new watch turns it back on.
    const again = Promise.resolve(2);
    watchPromise(again, [hook, {}]);
    expect(promiseHookOn()).toBe(true);
    await again;
    await nextCheckPhase();
    expect(promiseHookOn()).toBe(false);
  });
});
