/**
 * The promise hook's lifetime (patcher/promise-watch.ts): on while a watched promise is
 * pending, and taken off at the check phase after the last one settled, not at once, so
 * that an async function awaited in a loop does not install and remove it on every call.
 */
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
