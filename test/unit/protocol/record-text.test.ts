/**
 * The record stream's hand-written encoding (src/protocol/record-text.ts) against
 * JSON.stringify, on records the agent itself builds: every shape callEvent makes (a
 * value, a throw, an async settle, `this`, a stack, cut captures), so a field added to the
 * call record or moved in it fails here before the wire loses it.
 */
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { activeSessions, trace, type Session } from '../../../src/agent/session/session.js';
import type { CallEvent, SessionRecord } from '../../../src/protocol/events.js';
import { recordText } from '../../../src/protocol/record-text.js';

const require = createRequire(import.meta.url);
const users = require('../../fixtures/engine/users.cjs') as {
  findUser: (id: unknown, options?: unknown) => unknown;
  fail: (message: string) => never;
  query: (sql: string) => Promise<unknown>;
  inner: (n: number) => number;
  password: { check: (user: string, secret: string) => boolean };
};
const M = 'test/fixtures/engine/users';

afterEach(async () => {
  for (const session of activeSessions()) await session.stop();
});

async function records(session: Session): Promise<SessionRecord[]> {
  const out: SessionRecord[] = [];
  for await (const record of session) out.push(record);
  return out;
}

/** Every record's text equals JSON.stringify's; returns the call records. */
function sameAsStringify(all: SessionRecord[]): CallEvent[] {
  for (const record of all) expect(recordText(record)).toBe(JSON.stringify(record));
  return all.filter((r): r is CallEvent => r.type === 'call');
}

describe('recordText', () => {
  it('writes what JSON.stringify writes for every shape of call record', async () => {
    const sync = trace([`${M}:findUser`, `${M}:fail`, `${M}:inner -> stack`, `${M}:password.check -> this`], { max: 100, rate: false });
    users.findUser(1, { role: 'admin', nested: { list: [1, 2, 3], s: 'quote " and \\ and \n and \u2028 and é' } });
    users.findUser(null);
    users.findUser(Number.NaN, [undefined, -0, Infinity, 1.5e300, true, 'x'.repeat(5000)]);
    users.findUser(-0, 10n);
    users.findUser(Symbol('s'), () => 1);
    expect(() => users.fail('boom')).toThrow('boom');
    users.inner(2 ** 40);
    users.password.check('u', 'x');
    void sync.stop();
    const syncCalls = sameAsStringify(await records(sync));
    expect(syncCalls.length).toBe(8);
    expect(syncCalls.some((c) => c.stack !== undefined)).toBe(true);
    expect(syncCalls.some((c) => c.this !== undefined)).toBe(true);
    expect(syncCalls.some((c) => c.error !== undefined)).toBe(true);
    expect(syncCalls.some((c) => c.truncated)).toBe(true);

    const async = trace(`${M}:query`, { max: 2, rate: false });
    await users.query('select');
    await users.query('bad').catch(() => {});
    const asyncCalls = sameAsStringify(await records(async));
    expect(asyncCalls.map((c) => c.outcome)).toEqual(['resolve', 'reject']);
    expect(asyncCalls.every((c) => c.settleNs !== undefined)).toBe(true);
  });

  it('knows every field of a call record (a new one must be written by hand too)', () => {
    // The keys recordText writes, in order; callEvent's records must hold no other.
    const known = ['v', 'type', 'session', 'id', 'parent', 'depth', 'fn', 'module', 'engine', 'pid', 'thread', 'ts', 'args', 'outcome', 'durationNs', 'truncated', 'this', 'value', 'error', 'settleNs', 'stack'];
    const record = { v: 1, type: 'call', session: 's', id: 1, parent: null, depth: 0, fn: 'f', module: 'm', engine: 'exports', pid: 1, thread: 0, ts: 1, args: [], outcome: 'return', durationNs: 1, truncated: false, this: 1, value: 2, settleNs: 3, stack: [] };
    expect(Object.keys(JSON.parse(recordText(record)))).toEqual(known.filter((k) => k !== 'error'));
  });

  it('caches nothing that outlives a change of session, function or millisecond', () => {
    const base = { v: 1, type: 'call', session: 'a', id: 1, parent: 7, depth: 1, fn: 'f', module: 'm', engine: 'exports', pid: 1, thread: 0, ts: 1796656630608, args: [1, 'x'], outcome: 'return', durationNs: 5, truncated: false, value: null } as const;
    for (const record of [base, { ...base, session: 'b' }, { ...base, fn: 'g' }, { ...base, module: 'n' }, { ...base, engine: 'probe' }, { ...base, ts: 1796656630609 }, base]) {
      expect(recordText(record)).toBe(JSON.stringify(record));
    }
  });

  it('leaves any other record to JSON.stringify', () => {
    const stopped = { v: 1, type: 'stopped', session: 's', reason: 'user', detail: 'stopped by the user' };
    expect(recordText(stopped)).toBe(JSON.stringify(stopped));
  });
});
