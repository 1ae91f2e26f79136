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
