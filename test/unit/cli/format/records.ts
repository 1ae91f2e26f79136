// Builders of session records for the formatter tests.
import type { CallEvent, StartedRecord, StoppedRecord } from '../../../../src/protocol/events.js';

export const T0 = Date.UTC(2026, 0, 2, 12, 1, 2, 345);

export function call(fields: Partial<CallEvent> & Pick<CallEvent, 'id'>): CallEvent {
  return {
    v: 1,
    type: 'call',
    session: '4242-1',
    parent: null,
    depth: 0,
    fn: 'src/users.js:findUser',
    module: 'src/users.js',
    engine: 'exports',
    pid: 4242,
    thread: 0,
    ts: T0,
    args: [],
    outcome: 'return',
    value: null,
    durationNs: 210_000,
    truncated: false,
    ...fields,
  };
}

export function started(fields: Partial<StartedRecord> = {}): StartedRecord {
  return {
    v: 1,
    type: 'started',
    session: '4242-1',
    pid: 4242,
    ts: T0,
    patterns: ['src/users:findUser'],
    matched: [{ fn: 'src/users.js:findUser', module: 'src/users.js', engine: 'exports' }],
    unpatchable: [],
    limits: {
      max: 20,
      forMs: 60_000,
      rate: { count: 100, perMs: 1000 },
      trip: false,
      queueEvents: 10_000,
      queueBytes: 4 << 20,
      overloadMsPerSec: 50,
    },
    ...fields,
  };
}

export function stopped(fields: Partial<StoppedRecord> = {}): StoppedRecord {
  return {
    v: 1,
    type: 'stopped',
    session: '4242-1',
    pid: 4242,
    ts: T0 + 3200,
    reason: 'max',
    detail: 'max 20 calls',
    stats: {
      calls: 20,
      reported: 20,
      dropped: { rate: 0, queue: 0, overload: 0 },
      guardErrors: 0,
      internalErrors: 0,
      stopReason: 'max',
      elapsedMs: 3200,
    },
    ...fields,
  };
}
