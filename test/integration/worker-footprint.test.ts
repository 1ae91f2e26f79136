/**
 * A worker thread of a preloaded process that nobody traces loads the thread agent's
 * channel and nothing of the session machinery (register.ts): a pool of workers must not
 * pay for the whole agent in each.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp } from './fixture-app.js';

afterEach(cleanup);

describe('a worker thread under the preload', () => {
  // (Node runs `--import` preloads in the main thread only; such workers get the thread
  // agent from inject.ts when a session starts.)
  it.each(['require', 'node-options-require'] as const)('loads no session, pattern or patcher module before a session reaches it (%s)', async (preload) => {
    const app = await launchApp('worker-footprint.cjs', { preload });
    const { match } = await app.waitForLine(/^worker-modules (\d+)(.*)$/);
    const modules = match[2]!.trim().split(' ').filter((name) => name !== '');
    expect(modules).toContain('agent/threads/worker.js');
    expect(modules.filter((name) => /^(agent\/(session|patcher|capture|catalog)|pattern)\//.test(name))).toEqual([]);
    expect(modules.length).toBeLessThan(15);
  }, 30_000);
});
