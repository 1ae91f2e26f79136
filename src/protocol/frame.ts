/**
 * NDJSON framing for the control socket: one JSON value per line, in both directions.
 *
 * Reading. `FrameDecoder` is fed raw socket chunks and hands out parsed frames one at a
 * time, so its owner can stop pulling (and pause the socket) whenever its replies are
 * not draining. Lines are cut at the LF byte before any UTF-8 decoding, so a multi-byte
 * character split across chunks is reassembled intact, and characters such as U+2028
 * (legal raw inside JSON strings) never end a frame. A trailing CR is dropped and empty
 * lines are skipped. Memory stays bounded: the bytes of an unfinished line are counted
 * as they arrive and the decoder fails with LT_PROTOCOL_FRAME_TOO_LARGE as soon as they
 * pass the limit, without waiting for a newline that may never come. After its first
 * error a decoder is dead: the connection it served is to be closed.
 *
 * Writing. `FrameWriter` coalesces many small frames into few large socket writes (the
 * design's measurements: 325k/s with one write per event, 780k/s batched into 64 KB
 * writes). Frames wait at most until the next `setImmediate`, or go out at once when a
 * batch is full. It also tells its owner when the socket stopped draining (`congested`),
 * so the owner stops taking records from sessions: a session's own bounded queue then
 * drops and counts, and the agent's memory stays bounded whatever the reader does.
 * JSON.stringify never emits a raw LF (it escapes control characters and lone
 * surrogates), so every encoded value is exactly one line.
 */
import { LivetraceError } from './errors.js';

/** Largest frame either side accepts, in bytes, excluding the newline. */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Size at which the writer sends a batch without waiting for the next turn. */
export const BATCH_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
/** How much of a bad frame an error quotes back. */
const QUOTE_CHARS = 120;

export interface DecoderOptions {
  maxFrameBytes?: number;
}

/** Splits a byte stream into JSON frames; see the module comment. */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  /** Pieces of the line not yet ended by LF. */
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Complete lines not yet handed out, then possibly the error that ended the stream. */
  private lines: Buffer[] = [];
  private failure: LivetraceError | undefined;

  constructor(options: DecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  /** Bytes of an unfinished frame: non-zero at end of stream means the peer vanished mid-frame. */
  get pendingBytes(): number {
    return this.partialBytes;
  }

  /** True once the stream has failed; `next()` throws after the frames that came before. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  push(data: Uint8Array): void {
    if (this.failure) return;
    // A view, not a copy: lines reference the chunk's memory until they are parsed.
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(LF, start);
      const piece = chunk.subarray(start, end === -1 ? chunk.length : end);
      if (this.partialBytes + piece.length > this.maxFrameBytes) {
        this.fail(this.tooLarge());
        return;
      }
      if (end === -1) {
        this.partial[this.partial.length] = piece;
        this.partialBytes += piece.length;
        return;
      }
      const line = this.partial.length === 0 ? piece : Buffer.concat([...this.partial, piece]);
      this.partial = [];
      this.partialBytes = 0;
      this.lines[this.lines.length] = line;
      start = end + 1;
    }
  }

  /**
   * The next complete frame as `{ value }`, or undefined when none is buffered. Throws
   * LT_PROTOCOL_MALFORMED or LT_PROTOCOL_FRAME_TOO_LARGE when it reaches a bad frame.
   */
  next(): { value: unknown } | undefined {
    const text = this.nextText();
    return text === undefined ? undefined : { value: this.parse(text) };
  }

  /**
   * The next complete frame's text, not parsed (the owner may act on it without parsing:
   * client/raw-records.ts), or undefined when none is buffered; parse() it for its value.
   * Throws as next() does once the stream failed.
   */
  nextText(): string | undefined {
    const line = this.nextLine();
    return line === undefined ? undefined : line.toString('utf8');
  }

  /**
   * The next complete frame's bytes (a view of the chunk it came in, without its CR), not
   * decoded: an owner that copies a frame's bytes on needs no string of it
   * (client/raw-records.ts). Throws as next() does once the stream failed.
   */
  nextLine(): Buffer | undefined {
    for (;;) {
      const line = this.lines.shift();
      if (line === undefined) {
        if (this.failure) throw this.failure;
        return undefined;
      }
      const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
      if (length === 0) continue;
      return length === line.length ? line : line.subarray(0, length);
    }
  }

  /** A frame's value; throws LT_PROTOCOL_MALFORMED (and the decoder is dead) when the text is not JSON. */
  parse(text: string): unknown {
    try {
      return JSON.parse(text);
    } catch (error) {
      this.fail(
        new LivetraceError('LT_PROTOCOL_MALFORMED', `frame is not valid JSON: ${(error as Error).message}`, {
          input: text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text,
        }),
      );
      throw this.failure;
    }
  }

  private tooLarge(): LivetraceError {
    return new LivetraceError('LT_PROTOCOL_FRAME_TOO_LARGE', `frame exceeds ${this.maxFrameBytes} bytes`, {
      input: `${this.partialBytes}+ bytes without a newline`,
    });
  }

  private fail(error: LivetraceError): void {
    this.failure = error;
    // Lines after a malformed one are dropped; lines before an oversized one still count.
    if (error.code === 'LT_PROTOCOL_MALFORMED') this.lines = [];
    this.partial = [];
    this.partialBytes = 0;
  }
}

/**
 * Encodes one value as a frame (without the newline). Throws LT_PROTOCOL_FRAME_TOO_LARGE
 * for a value whose encoding the peer would refuse, and LT_PROTOCOL_MALFORMED for one
 * JSON cannot encode (a BigInt, a cycle, or undefined at the top).
 */
export function encodeFrame(value: unknown, maxFrameBytes: number = MAX_FRAME_BYTES): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new LivetraceError('LT_PROTOCOL_MALFORMED', `value cannot be encoded as JSON: ${(error as Error).message}`);
  }
  if (text === undefined) throw new LivetraceError('LT_PROTOCOL_MALFORMED', 'value cannot be encoded as JSON');
  return checkedFrame(text, maxFrameBytes);
}

/** `text`, a frame's JSON, when the peer would accept its size; throws LT_PROTOCOL_FRAME_TOO_LARGE otherwise. */
export function checkedFrame(text: string, maxFrameBytes: number = MAX_FRAME_BYTES): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when it could matter.
  if (text.length * 3 > maxFrameBytes && Buffer.byteLength(text, 'utf8') > maxFrameBytes) {
    throw new LivetraceError('LT_PROTOCOL_FRAME_TOO_LARGE', `frame of ${Buffer.byteLength(text)} bytes exceeds ${maxFrameBytes}`);
  }
  return text;
}

/** The part of a socket the writer needs; a net.Socket is one. */
export interface FrameSink {
  write(chunk: string, encoding: 'utf8'): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  removeListener(event: 'drain' | 'close', listener: () => void): unknown;
  readonly destroyed: boolean;
}

export interface WriterOptions {
  batchBytes?: number;
  maxFrameBytes?: number;
}

/** Batches frames into large socket writes and tracks backpressure; see the module comment. */
export class FrameWriter {
  private readonly sink: FrameSink;
  private readonly batchBytes: number;
  private readonly maxFrameBytes: number;
  private batch: string[] = [];
  /** Length of the batch in UTF-16 units: close enough to bytes for deciding when to send. */
  private batchLength = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private waiting: Array<() => void> = [];
  private blocked = false;
  private closed = false;

  constructor(sink: FrameSink, options: WriterOptions = {}) {
    this.sink = sink;
    this.batchBytes = options.batchBytes ?? BATCH_BYTES;
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES;
    sink.once('close', this.onClose);
  }

  /** True while the socket holds data it could not send yet; stop producing until `whenWritable()`. */
  get congested(): boolean {
    return this.blocked;
  }

  /**
   * Queues one frame. Throws (from `encodeFrame`) for a value that cannot be framed;
   * nothing is queued then. Frames written after the socket closed are discarded.
   */
  write(value: unknown): void {
    this.writeText(encodeFrame(value, this.maxFrameBytes));
  }

  /**
   * Queues one frame already encoded (`text`: one JSON value, no newline; the record
   * stream's own encoding, protocol/record-text.ts). Throws LT_PROTOCOL_FRAME_TOO_LARGE
   * for a frame the peer would refuse; nothing is queued then.
   */
  writeText(text: string): void {
    checkedFrame(text, this.maxFrameBytes);
    if (this.closed) return;
    // Index stores, not push: this runs in targets whose program may have replaced Array#push.
    this.batch[this.batch.length] = text;
    this.batch[this.batch.length] = '\n';
    this.batchLength += text.length + 1;
    if (this.batchLength >= this.batchBytes) this.flush();
    else if (this.scheduled === undefined) this.scheduled = setImmediate(this.flush);
  }

  /** Sends whatever is batched now. */
  readonly flush = (): void => {
    if (this.scheduled !== undefined) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.batch.length === 0 || this.closed) return;
    const data = this.batch.join('');
    this.batch = [];
    this.batchLength = 0;
    if (this.sink.destroyed) return this.onClose();
    if (!this.sink.write(data, 'utf8') && !this.blocked) {
      this.blocked = true;
      this.sink.once('drain', this.onDrain);
    }
  };

  /** Resolves when the socket accepts data again, or at once when it already does or is gone. */
  whenWritable(): Promise<void> {
    if (!this.blocked || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.waiting[this.waiting.length] = resolve));
  }

  private readonly onDrain = (): void => {
    this.blocked = false;
    this.release();
  };

  private readonly onClose = (): void => {
    this.closed = true;
    this.blocked = false;
    this.batch = [];
    this.batchLength = 0;
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.sink.removeListener('drain', this.onDrain);
    this.release();
  };

  private release(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
