/**
 * The session's side of the wrapper's fast paths (patcher/site.ts refreshSite): the
 * pattern's positional pre-test and the rate gate decide calls without the hook, and the
 * session's counts and the reach check's count of calls come out as if the hook had.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { siteOfWrapper } from '../../../../src/agent/patcher/site.js';
import { asyncContextActive } from '../../../../src/agent/patcher/context.js';
import { activeSessions, trace } from '../../../../src/agent/session/session.js';
import type { SessionHook } from '../../../../src/agent/session/hooks.js';

const require = createRequire(import.meta.url);
const users = require('../../../fixtures/engine/users.cjs') as {
  findUser: (id: unknown, options?: unknown) => unknown;
  inner: (n: number) => number;
  query: (sql: unknown) => Promise<unknown>;
};
const M = 'test/fixtures/engine/users';

afterEach(async () => {
  vi.useRealTimers();
  for (const session of activeSessions()) await session.stop();
});

function hookOf(fn: Function): SessionHook {
  const site = siteOfWrapper(fn);
  if (site === undefined || site.hooks.length !== 1) throw new Error('not traced by one session');
  return site.hooks[0] as SessionHook;
}

describe('fast paths seen from the session', () => {
  it('calls the positional pre-test rejects are not matched, yet counted as reaching the hook', () => {
    const session = trace(`${M}:findUser(nil, _)`, { rate: false });
    expect(siteOfWrapper(users.findUser)?.state.pre).not.toBeNull();
    for (let i = 1; i <= 4; i++) users.findUser(i);
    users.findUser(null);
    expect(session.stats).toMatchObject({ calls: 1, reported: 1 });
    expect(hookOf(users.findUser).entered).toBe(5);
  });

  it('a pre-guard on a whole argument rejects in the wrapper with the same verdicts', () => {
    const session = trace(`${M}:inner(X) when X < 2`, { rate: false });
    expect(siteOfWrapper(users.inner)?.state.pre).not.toBeNull();
    for (const n of [0, 1, 2, 3, -1]) users.inner(n);
    expect(session.stats).toMatchObject({ calls: 3, reported: 3 });
  });

  it('the gate drops over the rate in the wrapper; the stats and dropped records count them as matched and dropped', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const session = trace(`${M}:inner`, { rate: '2/1s' });
    const site = siteOfWrapper(users.inner)!;
    expect(site.state.gate).not.toBeNull();
    for (let i = 0; i < 6; i++) users.inner(i);
    expect(site.state.skipped).toBeGreaterThan(0);
    expect(session.stats).toMatchObject({ calls: 6, reported: 2, dropped: { rate: 4 } });
    expect(hookOf(users.inner).entered).toBe(6);
    const dropped = session.take().filter((r) => r.type === 'dropped');
    expect(dropped).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(session.take().filter((r) => r.type === 'dropped')).toEqual([expect.objectContaining({ reason: 'rate', count: 4 })]);
  });

  it('no gate with --trip, for a pattern with a filter, nor once a second pattern of the session reaches the function', () => {
    const tripping = trace(`${M}:inner`, { rate: '2/1s', trip: true });
    expect(siteOfWrapper(users.inner)?.state.gate).toBeNull();
    void tripping.stop();
    const filtered = trace(`${M}:inner/1`, { rate: '2/1s' });
    expect(siteOfWrapper(users.inner)?.state.gate).toBeNull();
    void filtered.stop();
    const session = trace(`${M}:inner`, { rate: '2/1s' });
    expect(siteOfWrapper(users.inner)?.state.gate).not.toBeNull();
    session.add(`${M}:inner(0)`);
    const state = siteOfWrapper(users.inner)!.state;
    expect(state.gate).toBeNull();
    expect(state.pre).toBeNull();
  });

  it('an async function (a Proxy wrapper) gets the pre-test and the gate too, in its apply trap', async () => {
    const session = trace(`${M}:query('bad')`, { rate: false });
    const state = siteOfWrapper(users.query)!.state;
    expect(state.pre).not.toBeNull();
    const results = await Promise.allSettled([users.query('a'), users.query('b'), users.query('bad')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(state.skipped).toBe(2);
    expect(session.stats).toMatchObject({ calls: 1, reported: 1 });
    expect(hookOf(users.query).entered).toBe(3);
    await session.stop();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const limited = trace(`${M}:query`, { rate: '1/1s' });
    expect(siteOfWrapper(users.query)!.state.gate).not.toBeNull();
    const values = await Promise.all([users.query('x'), users.query('y'), users.query('z')]);
    expect(values).toEqual([[{ sql: 'x' }], [{ sql: 'y' }], [{ sql: 'z' }]]);
    expect(limited.stats).toMatchObject({ calls: 3, reported: 1, dropped: { rate: 2 } });
  });

  it('a session that only times calls (hist) takes no async call-tree context, whatever it traces', () => {
    const hist = trace([`${M}:inner -> hist`, `${M}:findUser -> hist`], { rate: false });
    expect(hist.stats.calls).toBe(0);
    expect(asyncContextActive()).toBe(false);
    const plain = trace([`${M}:inner`, `${M}:findUser`], { rate: false });
    expect(asyncContextActive()).toBe(true);
    void plain.stop();
    void hist.stop();
    expect(asyncContextActive()).toBe(false);
  });
});
