/**
 * A session's records that nobody has read yet, bounded in call records and in bytes:
 * over either bound a new call record is refused (the session counts it as dropped), so
 * memory stays bounded when nobody reads. The same holds across queues: past
 * MAX_QUEUED_BYTES_TOTAL for the whole process (limits.ts), new call records are refused
 * in every session, so many stalled readers together cannot grow the host's heap. Control records (started, added, dropped,
 * stats, stopped) are never refused: there are few of them, and a reader must learn why
 * calls are missing and why the session ended.
 */
import type { SessionRecord } from '../../protocol/events.js';
import { MAX_QUEUED_BYTES_TOTAL } from '../limits.js';

/**
 * Bytes queued across every queue of the process, so that many stalled readers together
 * stay under MAX_QUEUED_BYTES_TOTAL. A queue dropped with records still in it (its
 * session ended unread) gives its bytes back when collected.
 */
const queued = { bytes: 0 };

/**
 * Heap bytes a queued record takes per byte of its size estimate. The estimate is the
 * record's encoded (JSON) size, which is what a session's own `queueBytes` counts; held
 * as objects, records take about four times that (measured with stalled readers: 4 MiB
 * of estimate held 12 MB of heap per session, 64 MiB across 30 sessions held 250 MB).
 * The process-wide cap is a bound on the host's heap, so it counts records at this rate.
 */
export const HEAP_BYTES_PER_ESTIMATED_BYTE = 4;
const released = new FinalizationRegistry<{ bytes: number }>((held) => {
  queued.bytes -= held.bytes;
});

/** Heap bytes (estimated) of call and control records queued in the whole process (for tests and stats). */
export function queuedBytesTotal(): number {
  return queued.bytes;
}

/**
 * Taken records leave their slots empty, and the slots are used again: once a reader
 * has taken everything (a stream's writer does, every turn) the next record goes to slot
 * 0, and a reader that leaves a tail has it moved down in place. A copy made with
 * `splice` (the rule until December 2026) allocated an array of the taken records at
 * every compaction, 16 bytes per reported call in a streaming session. The arrays keep
 * the length of the longest backlog, which the queue's own bounds limit.
 */
export class RecordQueue {
  private readonly records: (SessionRecord | undefined)[] = [];
  /** Estimated bytes of each queued record, index for index. */
  private readonly sizes: number[] = [];
  private head = 0;
  /** One past the last queued record (the arrays may be longer: slots taken earlier). */
  private tail = 0;
  private bytes = 0;
  /** Call records in the queue (control records don't count against the bound). */
  private calls = 0;
  private wake: (() => void) | undefined;
  /** This queue's share of the process-wide count, shared with the finalizer. */
  private readonly held = { bytes: 0 };

  constructor(
    private readonly maxCalls: number,
    private readonly maxBytes: number,
  ) {
    released.register(this, this.held);
  }

  /**
   * A call record would be refused now, whatever its size: checked before a call is
   * captured, so a reader that stopped draining (socket backpressure) costs the traced
   * process a compare per call, not a capture that is thrown away.
   */
  get full(): boolean {
    return this.calls >= this.maxCalls || this.bytes >= this.maxBytes || queued.bytes >= MAX_QUEUED_BYTES_TOTAL;
  }

  get empty(): boolean {
    return this.head >= this.tail;
  }

  /** Queues a record; false when a call record was refused for the bounds. */
  push(record: SessionRecord, bytes: number, control: boolean): boolean {
    if (!control) {
      if (this.calls >= this.maxCalls || this.bytes + bytes > this.maxBytes) return false;
      if (queued.bytes + bytes * HEAP_BYTES_PER_ESTIMATED_BYTE > MAX_QUEUED_BYTES_TOTAL) return false;
      this.calls++;
    }
    // Index writes, not push: a program may have replaced Array.prototype.push.
    this.records[this.tail] = record;
    this.sizes[this.tail] = bytes;
    this.tail++;
    this.bytes += bytes;
    this.held.bytes += bytes * HEAP_BYTES_PER_ESTIMATED_BYTE;
    queued.bytes += bytes * HEAP_BYTES_PER_ESTIMATED_BYTE;
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
    return true;
  }

  take(max: number): SessionRecord[] {
    const records = this.records;
    const end = Math.min(this.tail, this.head + max);
    const out = records.slice(this.head, end) as SessionRecord[];
    let bytes = 0;
    for (let i = this.head; i < end; i++) {
      bytes += this.sizes[i]!;
      if (records[i]!.type === 'call') this.calls--;
      // The slot no longer holds the record: the reader owns it now.
      records[i] = undefined;
    }
    this.bytes -= bytes;
    this.held.bytes -= bytes * HEAP_BYTES_PER_ESTIMATED_BYTE;
    queued.bytes -= bytes * HEAP_BYTES_PER_ESTIMATED_BYTE;
    this.head = end;
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
    } else if (this.head > 1024 && this.head * 2 > this.tail) {
      // Most of the arrays is taken slots: move the backlog down, in place.
      // Index loops: a program may have replaced Array.prototype.copyWithin.
      const n = this.tail - this.head;
      for (let i = 0; i < n; i++) {
        records[i] = records[this.head + i];
        this.sizes[i] = this.sizes[this.head + i]!;
      }
      for (let i = n; i < this.tail; i++) records[i] = undefined;
      this.head = 0;
      this.tail = n;
    }
    return out;
  }

  /** Resolves at the next push (or now, when there is something or `open` is false). */
  readable(open: boolean): Promise<void> {
    if (!this.empty || !open) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.wake;
      this.wake = () => {
        previous?.();
        resolve();
      };
    });
  }
}
