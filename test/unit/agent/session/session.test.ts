import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { addModuleSource } from '../../../../src/agent/catalog/modules.js';
import { asyncContextActive, asyncContextIdle } from '../../../../src/agent/patcher/context.js';
import { activeSessions, trace, type Session } from '../../../../src/agent/session/session.js';
import { LivetraceError } from '../../../../src/protocol/errors.js';
import type { CallEvent, SessionRecord, StatsRecord, StoppedRecord } from '../../../../src/protocol/events.js';

const require = createRequire(import.meta.url);
const users = require('../../../fixtures/engine/users.cjs') as {
  findUser: (id: unknown, options?: unknown) => unknown;
  fail: (message: string) => never;
  query: (sql: string) => Promise<unknown>;
  outer: (n: number) => Promise<number>;
  inner: (n: number) => number;
  later: (n: number, ms: number, done: (value: number) => void) => number;
  slow: (ms: number) => number;
  password: { check: (user: string, secret: string) => boolean };
};
const originals = { ...users, passwordCheck: users.password.check };
const M = 'test/fixtures/engine/users';

afterEach(async () => {
  vi.useRealTimers();
  for (const session of activeSessions()) await session.stop();
  // Every export is the original again once every session has ended.
  for (const key of ['findUser', 'fail', 'query', 'outer', 'inner', 'slow'] as const) expect(users[key]).toBe(originals[key]);
  expect(users.password.check).toBe(originals.passwordCheck);
});

function calls(records: SessionRecord[]): CallEvent[] {
  return records.filter((r): r is CallEvent => r.type === 'call');
}

async function collect(session: Session): Promise<SessionRecord[]> {
  const out: SessionRecord[] = [];
  for await (const record of session) out.push(record);
  return out;
}

function stoppedOf(records: SessionRecord[]): StoppedRecord {
  const last = records.at(-1);
  if (last?.type !== 'stopped') throw new Error(`last record is ${last?.type}`);
  return last;
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof LivetraceError ? error.code : `foreign: ${String(error)}`;
  }
  return undefined;
}

describe('trace()', () => {
  it('reports a matching call with args, value, timing and where it came from', async () => {
    const session = trace(`${M}:findUser(nil, ...)`, { max: 1 });
    expect(session.matched).toEqual([
      {
        fn: `${M}.cjs:findUser`,
        module: `${M}.cjs`,
        engine: 'exports',
        // Wrapped in place: the trace says who may not see it, and how to avoid that.
        identity: 'callers that destructured this export before the trace started are not seen; use --import livetrace/register or a probe',
      },
    ]);
    users.findUser(1, { role: 'x' }); // rejected by the argument pattern
    expect(users.findUser(null, { role: 'admin' })).toBe(null);
    const records = await collect(session);
    expect(records[0]).toMatchObject({ type: 'started', v: 1, patterns: [`${M}:findUser(nil, ...)`] });
    const [event] = calls(records);
    expect(event).toMatchObject({
      v: 1,
      type: 'call',
      fn: `${M}.cjs:findUser`,
      module: `${M}.cjs`,
      engine: 'exports',
      pid: process.pid,
      parent: null,
      depth: 0,
      args: [null, { role: 'admin' }],
      outcome: 'return',
      value: null,
      truncated: false,
    });
    expect(event!.durationNs).toBeGreaterThan(0);
    expect(Math.abs(event!.ts - Date.now())).toBeLessThan(5000);
    expect(stoppedOf(records)).toMatchObject({ reason: 'max', detail: 'max 1 calls' });
    expect(session.stats).toMatchObject({ calls: 1, reported: 1, stopReason: 'max' });
  });

  it('reports throws, resolves and rejects with settle time', async () => {
    const session = trace([`${M}:fail`, `${M}:query`], { max: 3 });
    expect(() => users.fail('boom')).toThrow(TypeError);
    await users.query('ok');
    await expect(users.query('bad')).rejects.toThrow('syntax error');
    const events = calls(await collect(session));
    expect(events.map((e) => e.outcome)).toEqual(['throw', 'resolve', 'reject']);
    expect(events[0]!.error).toMatchObject({ $: 'error', name: 'TypeError', message: 'boom' });
    expect(events[1]!.value).toEqual([{ sql: 'ok' }]);
    expect(events[1]!.settleNs).toBeGreaterThanOrEqual(events[1]!.durationNs);
    expect(events[2]!.error).toMatchObject({ $: 'error', message: 'syntax error' });
  });

  it('nests calls under their traced parent across await, timers and setImmediate', async () => {
    const session = trace([`${M}:outer`, `${M}:inner`], { max: 3 });
    expect(await users.outer(1)).toBe(6);
    const events = calls(await collect(session));
    const outer = events.find((e) => e.fn.endsWith(':outer'))!;
    const inners = events.filter((e) => e.fn.endsWith(':inner'));
    expect(inners).toHaveLength(2);
    for (const inner of inners) expect(inner).toMatchObject({ parent: outer.id, depth: 1 });
    expect(outer.parent).toBe(null);
  });

  it('nests calls under their own session\'s parent when two sessions take the same calls (frames of one hook and of several)', async () => {
    // `a` traces outer and inner; `b` only inner: outer's frames hold one hook (a's token is
    // the frame), inner's frames hold both sessions' pairs.
    const a = trace([`${M}:outer`, `${M}:inner`], { max: 3 });
    const b = trace(`${M}:inner`, { max: 2 });
    expect(await users.outer(1)).toBe(6);
    const [ra, rb] = await Promise.all([collect(a), collect(b)]);
    const outer = calls(ra).find((e) => e.fn.endsWith(':outer'))!;
    const innersA = calls(ra).filter((e) => e.fn.endsWith(':inner'));
    expect(innersA).toHaveLength(2);
    for (const inner of innersA) expect(inner).toMatchObject({ parent: outer.id, depth: 1 });
    const innersB = calls(rb);
    expect(innersB).toHaveLength(2);
    for (const inner of innersB) expect(inner).toMatchObject({ parent: null, depth: 0 });
    expect(innersB.map((e) => e.args)).toEqual(innersA.map((e) => e.args));
  });

  it('takes async context only once the session traces a second function, and gives it back', async () => {
    const session = trace(`${M}:outer`, { max: 3 });
    expect(asyncContextActive()).toBe(false);
    // One function: its synchronous nesting needs no storage; none is created.
    expect(await users.outer(1)).toBe(6);
    expect(asyncContextActive()).toBe(false);
    session.add(`${M}:inner`);
    expect(asyncContextActive()).toBe(true);
    expect(await users.outer(1)).toBe(6);
    const events = calls(await collect(session));
    const outers = events.filter((e) => e.fn.endsWith(':outer'));
    const inner = events.find((e) => e.fn.endsWith(':inner'))!;
    expect(inner).toMatchObject({ parent: outers[1]!.id, depth: 1 });
    expect(asyncContextActive()).toBe(false);
  });

  it('keeps the async context on only while a traced call is in flight, with the same parents (issue 18)', async () => {
    // Node 20 and 22: a storage on async hooks, switched off between calls; AsyncContextFrame (24) costs nothing and stays.
    const hookBased = typeof (AsyncLocalStorage.prototype as { _propagate?: unknown })._propagate === 'function';
    // Off after a whole turn without a call: two check phases.
    const turn = async (): Promise<void> => {
      for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    const session = trace([`${M}:outer`, `${M}:inner`], { max: 100 });
    expect(asyncContextActive()).toBe(true);
    // outer awaits a timer and an immediate: the check phases it spans must not switch it off.
    expect(await users.outer(1)).toBe(6);
    await turn();
    expect(asyncContextIdle()).toBe(hookBased);
    // Back on for the next call, before its parent is read.
    const second = users.outer(2);
    expect(asyncContextIdle()).toBe(false);
    expect(await second).toBe(10);
    await turn();
    expect(asyncContextIdle()).toBe(hookBased);
    await session.stop();
    const events = calls(await collect(session));
    const outers = events.filter((e) => e.fn.endsWith(':outer'));
    const inners = events.filter((e) => e.fn.endsWith(':inner'));
    expect(outers).toHaveLength(2);
    expect(inners).toHaveLength(4);
    for (const outer of outers) expect(outer.parent).toBe(null);
    expect(inners.map((e) => e.parent)).toEqual([outers[0]!.id, outers[0]!.id, outers[1]!.id, outers[1]!.id]);
    expect(asyncContextActive()).toBe(false);
    expect(asyncContextIdle()).toBe(false);
  });

  it('a timer a traced call left still finds it as parent after the context went idle (issue 18)', async () => {
    const hookBased = typeof (AsyncLocalStorage.prototype as { _propagate?: unknown })._propagate === 'function';
    const session = trace([`${M}:later`, `${M}:inner`], { max: 100 });
    let fired!: () => void;
    const done = new Promise<void>((resolve) => (fired = resolve));
    expect(users.later(3, 30, () => fired())).toBe(3);
    await new Promise((resolve) => setImmediate(resolve));
    // One check phase after a call: still on (a call may come in the next turn too).
    expect(asyncContextIdle()).toBe(false);
    await new Promise((resolve) => setImmediate(resolve));
    expect(asyncContextIdle()).toBe(hookBased);
    await done;
    await session.stop();
    const events = calls(await collect(session));
    const later = events.find((e) => e.fn.endsWith(':later'))!;
    expect(events.find((e) => e.fn.endsWith(':inner'))).toMatchObject({ parent: later.id, depth: 1 });
  });

  it('parents: false never takes async context', async () => {
    const session = trace([`${M}:outer`, `${M}:inner`], { max: 3, parents: false });
    expect(asyncContextActive()).toBe(false);
    expect(await users.outer(1)).toBe(6);
    for (const event of calls(await collect(session))) expect(event.parent).toBe(null);
  });

  it('checks a post-guard after the call: only throwing calls', async () => {
    const session = trace(`${M}:findUser when threw`, { max: 5, for: '200ms' });
    users.findUser(1);
    const records = await collect(session);
    expect(calls(records)).toHaveLength(0);
    expect(stoppedOf(records).reason).toBe('time');
  });

  it('checks a post-guard on duration', async () => {
    const session = trace(`${M}:slow when ms >= 20`, { max: 1 });
    users.slow(0);
    users.slow(25);
    const [event] = calls(await collect(session));
    expect(event!.args).toEqual([25]);
  });

  it('captures the caller stack with `-> stack`, without livetrace frames', async () => {
    const session = trace(`${M}:inner -> stack`, { max: 1 });
    users.inner(2);
    const [event] = calls(await collect(session));
    expect(event!.stack!.length).toBeGreaterThan(0);
    expect(event!.stack![0]!.file).toMatch(/session\.test\.ts$/);
    expect(event!.stack!.some((f) => /src[/\\]agent[/\\]/.test(f.file))).toBe(false);
  });

  it('captures `this` with `-> this` and redacts secrets', async () => {
    const session = trace(`${M}:password.check -> this`, { max: 1 });
    users.password.check('ann', 'hunter2');
    const [event] = calls(await collect(session));
    expect(event!.fn).toBe(`${M}.cjs:password.check`);
    expect(event!.this).toMatchObject({ check: { $: 'function' } });
    // The second parameter is named `secret`: its argument is redacted as a `secret` key would be.
    expect(event!.args).toEqual(['ann', { $: 'redacted' }]);
  });

  it('redacts positional arguments by their parameter names, from the original function', async () => {
    const session = trace(`${M}:password.check`, { max: 1, redact: ['user'] });
    users.password.check('ann', 'hunter2');
    const events = calls(await collect(session));
    expect(events[0]!.args).toEqual([{ $: 'redacted' }, { $: 'redacted' }]);
  });

  it('counts with -> count: calls and errors, no quantiles, no max or rate (the started record says so)', async () => {
    const session = trace(`${M}:inner -> count`, { for: '1s', max: 5, rate: '5/1s' });
    for (let i = 0; i < 50; i++) users.inner(i);
    const records = await collect(session);
    expect(records[0]).toMatchObject({ type: 'started', aggregate: true });
    const final = records.filter((r): r is StatsRecord => r.type === 'stats').at(-1)!;
    expect(final.functions).toEqual([{ fn: `${M}.cjs:inner`, calls: 50, errors: 0 }]);
    expect(stoppedOf(records).reason).toBe('time');
  });

  it('aggregates with -> hist: stats records, no call events', async () => {
    const session = trace(`${M}:inner -> hist`, { for: '1500ms' });
    for (let i = 0; i < 50; i++) users.inner(i);
    const records = await collect(session);
    expect(records[0]).toMatchObject({ type: 'started', aggregate: true });
    expect(calls(records)).toHaveLength(0);
    const stats = records.filter((r): r is StatsRecord => r.type === 'stats');
    const final = stats.at(-1)!;
    expect(final.final).toBe(true);
    expect(final.functions).toEqual([expect.objectContaining({ fn: `${M}.cjs:inner`, calls: 50, errors: 0, p50: expect.any(Number), max: expect.any(Number) })]);
    expect(stats.length).toBeGreaterThanOrEqual(2); // one per second and the final one
  });

  it('gains patterns while running (add)', async () => {
    const session = trace(`${M}:inner`, { max: 2 });
    const added = session.add(`${M}:findUser`);
    expect(added.matched.map((m) => m.fn)).toEqual([`${M}.cjs:findUser`]);
    users.findUser(5);
    users.inner(1);
    const events = calls(await collect(session));
    expect(events.map((e) => e.fn)).toEqual([`${M}.cjs:findUser`, `${M}.cjs:inner`]);
    expect(() => session.add(`${M}:inner`)).toThrow(/stopped/);
  });

  it('hooks matching modules that load after it started', async () => {
    const session = trace('test/fixtures/engine/late:lateFn', { max: 1, waitForModules: true });
    expect(session.matched).toEqual([]);
    const late = require('../../../fixtures/engine/late.cjs') as { lateFn: (x: number) => number };
    expect(late.lateFn(1)).toBe(2);
    const records = await collect(session);
    expect(records.some((r) => r.type === 'added')).toBe(true);
    expect(calls(records)[0]!.fn).toBe('test/fixtures/engine/late.cjs:lateFn');
  });

  it('hooks a module as soon as it has loaded, before its requirer goes on', async () => {
    const session = trace('test/fixtures/engine/late-callee:lateCallee', { max: 1, waitForModules: true });
    const caller = require('../../../fixtures/engine/late-caller.cjs') as { fromTopLevel: number };
    expect(caller.fromTopLevel).toBe(42);
    const [event] = calls(await collect(session));
    expect(event).toMatchObject({ args: [41], value: 42 });
  });

  it('says why a target could not be installed when the target knows', async () => {
    const fn = (): number => 1;
    const holder = {};
    const remove = addModuleSource({
      modules: () => [
        {
          ref: { id: 'fake/refusing.js', kind: 'app' },
          entries: () => [
            {
              path: 'f',
              kind: 'function',
              target: { holder, key: 'f', engine: 'probe', read: () => fn, write: () => false, unpatchable: () => undefined, failure: () => 'the probe could not be armed: test' },
            },
          ],
        },
      ],
    });
    try {
      const session = trace('fake/refusing:f');
      expect(session.matched).toEqual([]);
      expect(session.unpatchable).toEqual([{ fn: 'fake/refusing.js:f', module: 'fake/refusing.js', reason: 'the probe could not be armed: test' }]);
      await session.stop();
    } finally {
      remove();
    }
  });

  it('refuses bad, empty-handed and too-broad patterns with codes', () => {
    expect(errorCode(() => trace(`${M}:findUser(`))).toBe('LT_PATTERN_SYNTAX');
    expect(errorCode(() => trace(`${M}:findUsr`))).toBe('LT_PATTERN_NO_MATCH');
    try {
      trace(`${M}:findUsr`);
    } catch (error) {
      expect((error as LivetraceError).hint).toContain(`${M}.cjs:findUser`);
    }
    expect(errorCode(() => trace('**:*'))).toBe('LT_PATTERN_TOO_BROAD');
    expect(errorCode(() => trace(`${M}:*`, { maxFunctions: 2 }))).toBe('LT_PATTERN_TOO_BROAD');
    expect(errorCode(() => trace(`${M}:inner`, { rate: 'fast' }))).toBe('LT_OPTION_INVALID');
    expect(activeSessions()).toEqual([]);
  });

  it('stops when the iterator is left early, and stop() is idempotent', async () => {
    const session = trace(`${M}:inner`, { max: 10 });
    users.inner(1);
    for await (const record of session) if (record.type === 'call') break;
    expect(session.stopped).toBe(true);
    expect(session.stats.stopReason).toBe('user');
    await session.stop();
    await session.stop('time');
    expect(session.stats.stopReason).toBe('user');
  });

  it('never lets a hostile argument reach the caller as an error', async () => {
    const session = trace(`${M}:findUser`, { max: 1 });
    const hostile = new Proxy({}, { get() { throw new Error('trap'); }, ownKeys() { throw new Error('trap'); } });
    expect((users.findUser(hostile) as { id: unknown }).id).toBe(hostile);
    const [event] = calls(await collect(session));
    expect(event!.args[0]).toEqual({ $: 'proxy' });
  });
});

describe('limits', () => {
  it('expires on time even if nobody reads', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const session = trace(`${M}:inner`, { for: '10s' });
    vi.advanceTimersByTime(9_999);
    expect(session.stopped).toBe(false);
    vi.advanceTimersByTime(1);
    expect(session.stopped).toBe(true);
    expect(session.stats.stopReason).toBe('time');
    expect(users.inner).toBe(originals.inner);
  });

  it('drops calls over the rate and counts them, then refills', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const session = trace(`${M}:inner`, { rate: '2/1s' });
    for (let i = 0; i < 5; i++) users.inner(i);
    expect(session.stats).toMatchObject({ calls: 5, reported: 2, dropped: { rate: 3 } });
    vi.advanceTimersByTime(1000);
    users.inner(9);
    expect(session.stats.reported).toBe(3);
    const records = session.take();
    expect(records.filter((r) => r.type === 'dropped')).toEqual([expect.objectContaining({ reason: 'rate', count: 3 })]);
  });

  it('trips: stops the session over the rate with --trip', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const session = trace(`${M}:inner`, { rate: '2/1s', trip: true });
    for (let i = 0; i < 3; i++) users.inner(i);
    expect(session.stats.stopReason).toBe('rate');
    expect(users.inner).toBe(originals.inner);
  });

  it('bounds the queue in events and in bytes when nobody reads', () => {
    const byEvents = trace(`${M}:inner`, { queueEvents: 3, max: 1000, rate: false });
    for (let i = 0; i < 10; i++) users.inner(i);
    expect(byEvents.stats.dropped.queue).toBe(7);
    void byEvents.stop();
    expect(calls(byEvents.take())).toHaveLength(3);

    const byBytes = trace(`${M}:findUser`, { queueBytes: 2000, max: 1000, rate: false });
    for (let i = 0; i < 50; i++) users.findUser('x'.repeat(200), { role: 'y'.repeat(200) });
    expect(byBytes.stats.dropped.queue).toBeGreaterThan(40);
  });

  it('stops on overload when the engine spends too long per second', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const session = trace(`${M}:findUser`, { overloadMsPerSec: 1, max: 100_000, rate: false, queueEvents: 100_000, queueBytes: 64 * 1024 * 1024 });
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, { a: [1, 2, 3], s: 'text'.repeat(20) }]));
    for (let i = 0; i < 5000 && !session.stopped; i++) users.findUser(i, big);
    vi.advanceTimersByTime(1000);
    expect(session.stats.stopReason).toBe('overload');
  });

  it('two sessions on one function, ended in either order, restore the original', async () => {
    for (const order of [[0, 1], [1, 0]] as const) {
      const sessions = [trace(`${M}:inner`, { max: 5 }), trace(`${M}:inner(1)`, { max: 5 })];
      users.inner(1);
      users.inner(2);
      expect(sessions[0]!.stats.reported).toBe(2);
      expect(sessions[1]!.stats.reported).toBe(1);
      await sessions[order[0]]!.stop();
      users.inner(1);
      expect(sessions[order[1]]!.stats.reported).toBe(order[1] === 0 ? 3 : 2);
      expect(users.inner).not.toBe(originals.inner);
      await sessions[order[1]]!.stop();
      expect(users.inner).toBe(originals.inner);
    }
  });
});
