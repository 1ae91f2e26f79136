import { describe, expect, it } from 'vitest';
import { PrettyFormatter, describeStop, type Chunk } from '../../../../src/cli/format/pretty.js';
import { colors } from '../../../../src/cli/format/style.js';
import type { CallEvent } from '../../../../src/protocol/events.js';
import { T0, call, started, stopped } from './records.js';

function out(chunks: Chunk[]): string[] {
  return chunks.filter((c) => c.to === 'out').flatMap((c) => c.text.split('\n'));
}

function fmt(options = {}): PrettyFormatter {
  return new PrettyFormatter({ utc: true, ...options });
}

describe('pretty call lines', () => {
  it('prints time, pid, function, arguments, result and duration', () => {
    const event = call({ id: 1, args: [null, { role: 'admin' }], value: { id: 1 } });
    expect(out(fmt().push(event, 0))).toEqual(["12:01:02.345 4242 src/users.js:findUser(null, {role: 'admin'}) → {id: 1} 0.21ms"]);
  });

  it('marks throws and rejections, and shows settle time for promises', () => {
    const f = fmt();
    const threw = call({
      id: 1,
      outcome: 'throw',
      value: undefined,
      error: { $: 'error', name: 'TypeError', message: 'bad id' },
    });
    const rejected = call({
      id: 2,
      outcome: 'reject',
      value: undefined,
      error: { $: 'error', name: 'Error', message: 'no user 3' },
      durationNs: 40_000,
      settleNs: 12_300_000,
    });
    const resolved = call({ id: 3, outcome: 'resolve', value: { id: 1 }, durationNs: 40_000, settleNs: 1_500_000 });
    expect(out(f.push(threw, 0))[0]).toContain('findUser() ✗ threw TypeError: bad id 0.21ms');
    expect(out(f.push(rejected, 0))[0]).toContain('findUser() ✗ rejected Error: no user 3 settled in 12.3ms');
    expect(out(f.push(resolved, 0))[0]).toContain('findUser() → resolved {id: 1} settled in 1.5ms');
  });

  it('prints stack frames under the call, and this and truncation when present', () => {
    const event = call({
      id: 1,
      this: { $: 'object', class: 'Repo', props: { n: 1 } },
      truncated: true,
      stack: [
        { fn: 'orderOwner', file: 'src/routes.js', line: 12, column: 5 },
        { fn: '', file: 'node:internal/timers', line: 1, column: 2 },
      ],
    });
    const lines = out(fmt().push(event, 0));
    expect(lines[0]).toBe('12:01:02.345 4242 src/users.js:findUser() this: Repo {n: 1} → null 0.21ms (truncated)');
    expect(lines.slice(1)).toEqual([
      '                      at orderOwner (src/routes.js:12:5)',
      '                      at node:internal/timers:1:2',
    ]);
  });

  it('escapes hostile text from the agent', () => {
    const event = call({ id: 1, fn: 'src/x.js:\u001b[2Jevil', args: ['\u001b]0;title\u0007'] });
    const [line] = out(fmt().push(event, 0));
    expect(line).not.toMatch(/\u001b|\u0007/);
    expect(line).toContain('\\x1b[2Jevil');
  });

  it('colours only with a colour style', () => {
    const event = call({ id: 1, outcome: 'throw', value: undefined, error: 'x' });
    expect(out(fmt().push(event, 0))[0]).not.toContain('\u001b[');
    expect(out(fmt({ style: colors }).push(event, 0))[0]).toContain('\u001b[31m✗ threw');
  });
});

describe('pretty call trees', () => {
  const root = (fields: Partial<CallEvent> = {}): CallEvent => call({ id: 1, fn: 'src/routes.js:orderOwner', ...fields });
  const child = (id: number, fields: Partial<CallEvent> = {}): CallEvent =>
    call({ id, parent: 1, depth: 1, fn: 'src/db.js:query', ...fields });

  it('holds children until their root ends, then prints the tree in call order', () => {
    const f = fmt();
    expect(f.push(child(3), 0)).toEqual([]);
    expect(f.push(call({ id: 4, parent: 3, depth: 2, fn: 'src/db.js:parse' }), 0)).toEqual([]);
    expect(f.push(child(2), 0)).toEqual([]);
    expect(f.holding).toBe(3);
    const lines = out(f.push(root(), 0));
    expect(lines.map((l) => l.slice(18).replace(/\(.*$/, ''))).toEqual([
      'src/routes.js:orderOwner',
      '  src/db.js:query',
      '  src/db.js:query',
      '    src/db.js:parse',
    ]);
    expect(lines[1]).toMatch(/^12:01:02.345 4242 {3}src\/db.js:query/);
    expect(f.holding).toBe(0);
  });

  it('prints a child that ends after its parent at once', () => {
    const f = fmt();
    expect(out(f.push(root(), 0))).toHaveLength(1);
    expect(out(f.push(child(2), 0))).toHaveLength(1);
  });

  it('joins a late child to a parent that itself still waits', () => {
    const f = fmt();
    f.push(call({ id: 2, parent: 1, depth: 1, fn: 'src/a.js:mid' }), 0);
    f.push(call({ id: 3, parent: 2, depth: 2, fn: 'src/a.js:leaf' }), 0);
    const lines = out(f.push(root(), 0));
    expect(lines.map((l) => l.slice(18).replace(/\(.*$/, ''))).toEqual(['src/routes.js:orderOwner', '  src/a.js:mid', '    src/a.js:leaf']);
  });

  it('gives up on a parent that does not come within the time bound', () => {
    const f = fmt({ holdMs: 1000 });
    f.push(child(2), 0);
    expect(f.expire(999)).toEqual([]);
    expect(out(f.expire(1000))).toHaveLength(1);
    expect(f.holding).toBe(0);
    // Its siblings no longer wait, and neither does the parent when it finally comes.
    expect(out(f.push(child(3), 1001))).toHaveLength(1);
    expect(out(f.push(root(), 1002))).toHaveLength(1);
  });

  it('gives up on the oldest groups when too many calls are held', () => {
    const f = fmt({ holdEvents: 2 });
    f.push(call({ id: 10, parent: 9, depth: 1 }), 0);
    f.push(call({ id: 11, parent: 8, depth: 1 }), 0);
    const released = out(f.push(call({ id: 12, parent: 7, depth: 1 }), 0));
    expect(released).toHaveLength(1);
    expect(f.holding).toBe(2);
  });

  it('keeps trees of different processes apart', () => {
    const f = fmt();
    f.push(call({ id: 2, parent: 1, depth: 1, pid: 1 }), 0);
    expect(out(f.push(call({ id: 1, pid: 2 }), 0))).toHaveLength(1);
    expect(f.holding).toBe(1);
  });

  it('prints everything held when the session stops', () => {
    const f = fmt();
    f.push(call({ id: 5, parent: 4, depth: 1 }), 0);
    f.push(call({ id: 3, parent: 2, depth: 1 }), 0);
    const lines = out(f.push(stopped(), 0));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('4242   src/users.js');
    expect(f.holding).toBe(0);
  });
});

describe('pretty session records', () => {
  it('says what matched, by which engine, and what could not be patched', () => {
    const record = started({
      unpatchable: [{ fn: 'src/esm.mjs:load', module: 'src/esm.mjs', reason: 'ES module binding' }],
    });
    const [chunk] = fmt().push(record, 0);
    expect(chunk?.to).toBe('info');
    expect(chunk?.text.split('\n')).toEqual([
      "tracing 'src/users:findUser' in process 4242 (session 4242-1; max 20 calls, for 1m, rate 100/1s)",
      '  src/users.js:findUser [exports]',
      '  not patchable: src/esm.mjs:load: ES module binding',
    ]);
  });

  it('shows only the duration limit for an aggregating session (max and rate do not apply)', () => {
    const [chunk] = fmt().push(started({ patterns: ['src/users:findUser -> count'], aggregate: true }), 0);
    expect(chunk?.text.split('\n')[0]).toBe("tracing 'src/users:findUser -> count' in process 4242 (session 4242-1; for 1m)");
  });

  it('says when nothing matched yet', () => {
    const [chunk] = fmt().push(started({ matched: [] }), 0);
    expect(chunk?.text).toContain('nothing matched yet');
  });

  it('describes added patterns, modules loaded later, and drops', () => {
    const f = fmt();
    f.push(started(), 0);
    const base = { v: 1 as const, session: '4242-1', pid: 4242, ts: T0, unpatchable: [] };
    const matched = [{ fn: 'src/db.js:query', module: 'src/db.js', engine: 'exports' as const }];
    expect(f.push({ ...base, type: 'added', patterns: ['src/db:query'], matched }, 0)[0]?.text).toBe(
      "added 'src/db:query': 1 function\n  src/db.js:query [exports]",
    );
    expect(f.push({ ...base, type: 'added', patterns: [], matched }, 0)[0]?.text).toContain('modules loaded in process 4242: now also tracing 1 function');
    expect(f.push({ v: 1, type: 'dropped', session: '4242-1', pid: 4242, ts: T0, reason: 'rate', count: 12 }, 0)[0]?.text).toBe(
      'dropped 12 calls in process 4242: over the rate limit of 100/1s',
    );
  });

  it('turns stats records into tables', () => {
    const [chunk] = fmt().push({ v: 1, type: 'stats', session: '4242-1', pid: 4242, ts: T0, final: false, functions: [] }, 0);
    expect(chunk?.to).toBe('table');
  });
});

describe('describeStop', () => {
  it('says why and how many', () => {
    expect(describeStop(stopped())).toBe('stopped: max 20 calls in 3.2s, 0 dropped');
    const time = stopped({ reason: 'time', detail: 'time limit 5s' });
    time.stats = { ...time.stats, reported: 3, elapsedMs: 5000, dropped: { rate: 2, queue: 1, overload: 0 }, guardErrors: 1 };
    expect(describeStop(time)).toBe('stopped: time limit 5s in 5s, 3 calls, 3 dropped, 1 guard error');
  });
});

describe('describeStop with worker threads', () => {
  it('names the threads whose part ended on its own, not those the stop ended', () => {
    const drops = { rate: 0, queue: 0, overload: 0 };
    const record = stopped({
      threads: [
        { thread: 1, reason: 'overload', detail: 'livetrace spent over 50ms per second in the target', calls: 4, dropped: drops },
        { thread: 2, reason: null, detail: null, calls: 9, dropped: drops },
        { thread: 3, reason: 'max', detail: 'max 20 calls', calls: 20, dropped: drops },
        { thread: 4, reason: 'rate', detail: 'rate over 1/1s (--trip)', calls: 2, dropped: drops },
      ],
    });
    expect(describeStop(record)).toBe('stopped: max 20 calls in 3.2s, 0 dropped, ended earlier in threads 1 (overload), 4 (rate)');
    expect(describeStop(stopped({ threads: [{ thread: 2, reason: null, detail: null, calls: 9, dropped: drops }] }))).toBe('stopped: max 20 calls in 3.2s, 0 dropped');
  });
});

describe('describeStop wording', () => {
  it('does not repeat "stopped"', () => {
    expect(describeStop(stopped({ reason: 'user', detail: 'stopped by the user' }))).toBe('stopped: by the user in 3.2s, 20 calls, 0 dropped');
  });
});
