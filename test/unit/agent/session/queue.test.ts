import { describe, expect, it } from 'vitest';
import { RecordQueue } from '../../../../src/agent/session/queue.js';
import type { SessionRecord } from '../../../../src/protocol/events.js';

const call = { type: 'call' } as unknown as SessionRecord;
const control = { type: 'dropped' } as unknown as SessionRecord;

// `full` is asked before a call is captured (session.ts takeSlot): it must say "refused"
// exactly when push would refuse any call record, and "room" again once a reader takes.
describe('RecordQueue.full', () => {
  it('is true at the call bound, false again once records are taken', () => {
    const queue = new RecordQueue(2, 1_000_000);
    expect(queue.full).toBe(false);
    expect(queue.push(call, 10, false)).toBe(true);
    expect(queue.full).toBe(false);
    expect(queue.push(call, 10, false)).toBe(true);
    expect(queue.full).toBe(true);
    expect(queue.push(call, 10, false)).toBe(false);
    queue.take(1);
    expect(queue.full).toBe(false);
  });

  it('is true at the byte bound; control records never count against it', () => {
    const queue = new RecordQueue(100, 50);
    expect(queue.push(control, 0, true)).toBe(true);
    expect(queue.full).toBe(false);
    expect(queue.push(call, 50, false)).toBe(true);
    expect(queue.full).toBe(true);
    expect(queue.push(call, 1, false)).toBe(false);
    queue.take(10);
    expect(queue.full).toBe(false);
  });
});

// Taken slots are used again (no copy of the arrays): the order, the counts and the bytes
// must come out as if every record had its own slot, whatever the readers take.
describe('RecordQueue slots', () => {
  const numbered = (n: number, type = 'call'): SessionRecord => ({ type, n }) as unknown as SessionRecord;
  const ns = (records: SessionRecord[]): number[] => records.map((r) => (r as unknown as { n: number }).n);

  it('keeps order across full and partial takes, and compacts a long taken prefix in place', () => {
    const queue = new RecordQueue(10_000, 1e9);
    const expected: number[] = [];
    const seen: number[] = [];
    let next = 0;
    // Push in bursts, take in uneven portions: every path of take() (all taken, a tail left
    // with a short prefix, a tail left behind a prefix of over 1024 that gets moved down).
    for (const [push, take] of [[10, 10], [10, 3], [2000, 1500], [5, 1], [3000, 2900], [100, 1e9], [50, 20]] as const) {
      for (let i = 0; i < push; i++) {
        expect(queue.push(numbered(next), 7, false)).toBe(true);
        expected.push(next++);
      }
      seen.push(...ns(queue.take(take)));
    }
    seen.push(...ns(queue.take(Infinity)));
    expect(seen).toEqual(expected);
    expect(queue.empty).toBe(true);
    expect(queue.full).toBe(false);
  });

  it('counts call records and bytes back as they are taken', () => {
    const queue = new RecordQueue(3, 100);
    expect(queue.push(numbered(0), 40, false)).toBe(true);
    expect(queue.push(numbered(1, 'dropped'), 0, true)).toBe(true);
    expect(queue.push(numbered(2), 40, false)).toBe(true);
    expect(queue.push(numbered(3), 40, false)).toBe(false);
    expect(ns(queue.take(2))).toEqual([0, 1]);
    expect(queue.push(numbered(4), 40, false)).toBe(true);
    expect(queue.push(numbered(5), 40, false)).toBe(false);
    expect(ns(queue.take(Infinity))).toEqual([2, 4]);
    expect(queue.push(numbered(6), 100, false)).toBe(true);
    expect(ns(queue.take(Infinity))).toEqual([6]);
    expect(queue.empty).toBe(true);
  });
});
