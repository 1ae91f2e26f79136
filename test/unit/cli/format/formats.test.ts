import { describe, expect, it } from 'vitest';
import { formatMs, formatNs } from '../../../../src/cli/format/duration.js';
import { formatJsonRecord } from '../../../../src/cli/format/json.js';
import { createPinoWriter } from '../../../../src/cli/format/pino.js';
import { renderStatsTable } from '../../../../src/cli/format/stats-table.js';
import { colorAllowed } from '../../../../src/cli/format/style.js';
import type { StatsRecord } from '../../../../src/protocol/events.js';
import { T0, call, started, stopped } from './records.js';

describe('json', () => {
  it('prints each record as it came, one per line', () => {
    const event = call({ id: 7, args: [{ $: 'undefined' }, 'x'] });
    const text = formatJsonRecord(event);
    expect(text.endsWith('\n')).toBe(true);
    expect(text.indexOf('\n')).toBe(text.length - 1);
    expect(JSON.parse(text)).toEqual(event);
  });
});

describe('pino', () => {
  function lines(records: Parameters<ReturnType<typeof createPinoWriter>['write']>[0][]): Record<string, unknown>[] {
    let text = '';
    const writer = createPinoWriter({ write: (chunk: string) => void (text += chunk) }, 'host-1');
    for (const record of records) writer.write(record);
    return text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('writes pino lines: level, time of the call, pid of the target, hostname, msg, and the event fields', () => {
    const [line] = lines([call({ id: 1, args: [null], ts: T0 })]);
    expect(line).toMatchObject({
      level: 30,
      time: T0,
      pid: 4242,
      hostname: 'host-1',
      msg: 'call src/users.js:findUser',
      type: 'call',
      fn: 'src/users.js:findUser',
      args: [null],
      outcome: 'return',
      durationNs: 210_000,
    });
    expect(Object.keys(line!).slice(0, 4)).toEqual(['level', 'time', 'pid', 'hostname']);
  });

  it('logs failures at level 50 and session records at their levels', () => {
    const failed = call({ id: 2, outcome: 'reject', value: undefined, error: { $: 'error', name: 'Error', message: 'x' } });
    const dropped = { v: 1, type: 'dropped', session: '4242-1', pid: 4242, ts: T0, reason: 'queue', count: 3 } as const;
    const out = lines([started(), failed, dropped, stopped()]);
    expect(out.map((l) => [l.level, l.msg])).toEqual([
      [30, 'trace started: 1 functions'],
      [50, 'call src/users.js:findUser rejected'],
      [40, 'dropped 3 calls (queue)'],
      [30, 'trace stopped: max 20 calls'],
    ]);
  });
});

describe('stats table', () => {
  const record: StatsRecord = {
    v: 1,
    type: 'stats',
    session: '4242-1',
    pid: 4242,
    ts: T0,
    final: true,
    functions: [
      { fn: 'src/users.js:findUser', calls: 3, errors: 0, p50: 20_000, p90: 40_000, p99: 41_000, max: 41_000 },
      { fn: 'src/db.js:query', calls: 120, errors: 2, p50: 1_200_000, p90: 4_500_000, p99: 110_000_000, max: 130_000_000 },
    ],
  };

  it('lists functions by calls with errors and quantiles, columns aligned', () => {
    expect(renderStatsTable(record, { time: () => '12:01:02' })).toEqual([
      'final stats of session 4242-1 at 12:01:02',
      'function               calls  errors    p50    p90    p99    max',
      'src/db.js:query          120       2  1.2ms  4.5ms  110ms  130ms',
      'src/users.js:findUser      3       0   20µs   40µs   41µs   41µs',
    ]);
  });

  it('shows calls and errors only for a count session (no quantiles)', () => {
    const counted = { ...record, functions: record.functions.map(({ fn, calls, errors }) => ({ fn, calls, errors })) };
    expect(renderStatsTable(counted, { time: () => '12:01:02' })).toEqual([
      'final stats of session 4242-1 at 12:01:02',
      'function               calls  errors',
      'src/db.js:query          120       2',
      'src/users.js:findUser      3       0',
    ]);
  });

  it("follows the table with each thread's own when asked (a session that ran in worker threads)", () => {
    const counted = { ...record, functions: [{ fn: 'lib/tasks.cjs:square', calls: 5, errors: 0 }] };
    const threaded = {
      ...counted,
      threads: [
        { thread: 2, functions: [{ fn: 'lib/tasks.cjs:square', calls: 3, errors: 0 }] },
        { thread: 3, functions: [{ fn: 'lib/tasks.cjs:square', calls: 2, errors: 0 }] },
      ],
    };
    const session = ['final stats of session 4242-1 at t', 'function              calls  errors', 'lib/tasks.cjs:square      5       0'];
    expect(renderStatsTable(threaded, { time: () => 't' })).toEqual(session);
    expect(renderStatsTable(threaded, { time: () => 't', perThread: true })).toEqual([
      ...session,
      '  thread 2',
      'function              calls  errors',
      'lib/tasks.cjs:square      3       0',
      '  thread 3',
      'function              calls  errors',
      'lib/tasks.cjs:square      2       0',
    ]);
  });

  it('says when there are no calls yet', () => {
    expect(renderStatsTable({ ...record, final: false, functions: [] }, { time: () => 't' })).toEqual([
      'stats of session 4242-1 at t',
      '  no calls yet',
    ]);
  });
});

describe('durations', () => {
  it('reads short and keeps about three digits', () => {
    expect([999, 2_100, 210_000, 12_345_678, 3_200_000_000].map(formatNs)).toEqual(['999ns', '2.1µs', '0.21ms', '12.3ms', '3.2s']);
    expect([950, 3_210, 5_000, 90_000, 120_000, 5_400_000].map(formatMs)).toEqual(['950ms', '3.2s', '5s', '1m30s', '2m', '1h30m']);
    expect(formatNs(Number.NaN)).toBe('?');
  });
});

describe('colour', () => {
  it('is used only on a terminal and never with NO_COLOR', () => {
    expect(colorAllowed({ isTTY: true }, {})).toBe(true);
    expect(colorAllowed({ isTTY: false }, {})).toBe(false);
    expect(colorAllowed({}, {})).toBe(false);
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorAllowed({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });
});
