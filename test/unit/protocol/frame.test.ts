import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LivetraceError } from '../../../src/protocol/errors.js';
import { BATCH_BYTES, FrameDecoder, FrameWriter, MAX_FRAME_BYTES, encodeFrame, type FrameSink } from '../../../src/protocol/frame.js';

function drain(decoder: FrameDecoder): unknown[] {
  const out: unknown[] = [];
  for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) out.push(frame.value);
  return out;
}

function errorOf(work: () => unknown): LivetraceError {
  try {
    work();
  } catch (error) {
    if (error instanceof LivetraceError) return error;
    throw error;
  }
  throw new Error('expected a LivetraceError');
}

describe('FrameDecoder', () => {
  it('reassembles frames split at every byte, including inside multi-byte characters', () => {
    const values = [{ op: 'hello', s: 'é日本🙂' }, { n: 1 }, ['\u2028', '\u2029']];
    const bytes = Buffer.from(values.map((v) => JSON.stringify(v) + '\n').join(''), 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new FrameDecoder();
      decoder.push(bytes.subarray(0, cut));
      const first = drain(decoder);
      decoder.push(bytes.subarray(cut));
      expect([...first, ...drain(decoder)]).toEqual(values);
    }
  });

  it('accepts byte-at-a-time input', () => {
    const decoder = new FrameDecoder();
    const bytes = Buffer.from('{"a":"ü"}\n{"b":2}\n');
    const out: unknown[] = [];
    for (const byte of bytes) {
      decoder.push(Uint8Array.of(byte));
      out.push(...drain(decoder));
    }
    expect(out).toEqual([{ a: 'ü' }, { b: 2 }]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it('drops a trailing CR and skips empty lines', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('{"a":1}\r\n\r\n\n{"b":2}\r\n'));
    expect(drain(decoder)).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it('keeps raw U+2028 and U+2029 inside a frame (only LF ends one)', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('{"s":"a\u2028b\u2029c"}\n'));
    expect(drain(decoder)).toEqual([{ s: 'a\u2028b\u2029c' }]);
  });

  it('fails as soon as an unfinished frame passes the limit, without buffering more', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1000 });
    decoder.push(Buffer.from('{"ok":1}\n'));
    decoder.push(Buffer.alloc(600, 0x61));
    expect(decoder.failed).toBe(false);
    expect(decoder.pendingBytes).toBe(600);
    decoder.push(Buffer.alloc(600, 0x61));
    expect(decoder.failed).toBe(true);
    expect(decoder.pendingBytes).toBe(0);
    // Frames before the bad one are still delivered, then the error.
    expect(decoder.next()).toEqual({ value: { ok: 1 } });
    expect(errorOf(() => decoder.next()).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
    decoder.push(Buffer.from('{"late":1}\n'));
    expect(errorOf(() => decoder.next()).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
  });

  it('accepts a frame of exactly the limit and refuses one byte more', () => {
    const body = (n: number): Buffer => Buffer.from(`"${'x'.repeat(n - 2)}"\n`);
    const exact = new FrameDecoder({ maxFrameBytes: 100 });
    exact.push(body(100));
    expect(drain(exact)).toEqual(['x'.repeat(98)]);
    const over = new FrameDecoder({ maxFrameBytes: 100 });
    over.push(body(101));
    expect(errorOf(() => over.next()).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
  });

  it('defaults to a 1 MiB limit', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.alloc(MAX_FRAME_BYTES + 1, 0x20));
    expect(decoder.failed).toBe(true);
  });

  it('reports malformed JSON with a quote of the frame, after the good frames before it', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('{"a":1}\n{"a":\n{"b":2}\n'));
    expect(decoder.next()).toEqual({ value: { a: 1 } });
    const error = errorOf(() => decoder.next());
    expect(error.code).toBe('LT_PROTOCOL_MALFORMED');
    expect(error.input).toBe('{"a":');
    expect(errorOf(() => decoder.next()).code).toBe('LT_PROTOCOL_MALFORMED');
  });

  it('reports bytes of a frame cut short (a peer that vanished mid-frame)', () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from('{"a":1}\n{"b":'));
    expect(drain(decoder)).toEqual([{ a: 1 }]);
    expect(decoder.pendingBytes).toBe(5);
  });

  it('round-trips arbitrary JSON split at arbitrary points', () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (values, cuts) => {
          const bytes = Buffer.from(values.map((v) => encodeFrame(v) + '\n').join(''), 'utf8');
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder();
          const out: unknown[] = [];
          let from = 0;
          for (const point of [...points, bytes.length]) {
            decoder.push(bytes.subarray(from, point));
            out.push(...drain(decoder));
            from = point;
          }
          // JSON has no -0; everything else must come back as it was.
          expect(out).toEqual(JSON.parse(JSON.stringify(values)));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('encodeFrame', () => {
  it('never produces a raw newline, even for lone surrogates and control characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const text = encodeFrame({ s });
        expect(text).not.toContain('\n');
        expect(JSON.parse(text)).toEqual({ s: JSON.parse(JSON.stringify(s)) });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses values over the frame limit, counting UTF-8 bytes', () => {
    expect(encodeFrame('é'.repeat(40), 100)).toHaveLength(42);
    expect(errorOf(() => encodeFrame('é'.repeat(60), 100)).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
    expect(errorOf(() => encodeFrame('x'.repeat(MAX_FRAME_BYTES))).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
  });

  it('refuses what JSON cannot encode', () => {
    expect(errorOf(() => encodeFrame({ n: 1n })).code).toBe('LT_PROTOCOL_MALFORMED');
    expect(errorOf(() => encodeFrame(undefined)).code).toBe('LT_PROTOCOL_MALFORMED');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(errorOf(() => encodeFrame(cycle)).code).toBe('LT_PROTOCOL_MALFORMED');
  });
});

/** A socket stand-in: records writes, refuses more after `capacity` bytes until drained. */
class FakeSink extends EventEmitter implements FrameSink {
  writes: string[] = [];
  destroyed = false;
  constructor(private capacity = Infinity) {
    super();
  }
  write(chunk: string): boolean {
    this.writes.push(chunk);
    this.capacity -= chunk.length;
    return this.capacity > 0;
  }
  drain(capacity: number): void {
    this.capacity = capacity;
    this.emit('drain');
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FrameWriter', () => {
  it('coalesces frames written in one turn into one socket write', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    for (let i = 0; i < 100; i++) writer.write({ type: 'record', i });
    expect(sink.writes).toHaveLength(0);
    await turn();
    expect(sink.writes).toHaveLength(1);
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from(sink.writes[0]!));
    expect(drain(decoder)).toHaveLength(100);
  });

  it('sends a full batch at once, without waiting for the turn', () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    const frame = { pad: 'x'.repeat(1000) };
    const perBatch = Math.ceil(BATCH_BYTES / (JSON.stringify(frame).length + 1));
    for (let i = 0; i < perBatch * 3; i++) writer.write(frame);
    expect(sink.writes).toHaveLength(3);
    for (const chunk of sink.writes) expect(chunk.length).toBeGreaterThanOrEqual(BATCH_BYTES);
    for (const chunk of sink.writes) expect(chunk.length).toBeLessThan(BATCH_BYTES + 1100);
  });

  it('reports congestion until the socket drains', async () => {
    const sink = new FakeSink(10);
    const writer = new FrameWriter(sink);
    expect(writer.congested).toBe(false);
    writer.write({ a: 'more than ten bytes' });
    writer.flush();
    expect(writer.congested).toBe(true);
    let released = false;
    const waiting = writer.whenWritable().then(() => (released = true));
    await turn();
    expect(released).toBe(false);
    sink.drain(1000);
    await waiting;
    expect(writer.congested).toBe(false);
    await writer.whenWritable();
  });

  it('releases waiters and discards frames once the socket closes', async () => {
    const sink = new FakeSink(1);
    const writer = new FrameWriter(sink);
    writer.write({ a: 1 });
    writer.flush();
    const waiting = writer.whenWritable();
    sink.destroyed = true;
    sink.emit('close');
    await waiting;
    writer.write({ b: 2 });
    await turn();
    expect(sink.writes).toHaveLength(1);
  });

  it('refuses an oversized frame and keeps the batch intact', async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink, { maxFrameBytes: 50 });
    writer.write({ a: 1 });
    expect(errorOf(() => writer.write({ big: 'x'.repeat(100) })).code).toBe('LT_PROTOCOL_FRAME_TOO_LARGE');
    writer.write({ b: 2 });
    await turn();
    expect(sink.writes).toEqual(['{"a":1}\n{"b":2}\n']);
  });
});
