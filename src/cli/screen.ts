/**
 * Where a running trace writes: events to `out` (stdout or the --output file), news and
 * errors to `err` (stderr), plus two things redrawn in place when their stream is a
 * terminal: a status line at the bottom of stderr, and the latest stats table on out.
 *
 * Both usually share one terminal, so every write goes through here: the status line is
 * wiped before anything else is written and drawn again after, and a table is redrawn
 * in place only while it is still the last thing printed (anything written after it
 * makes the next table start below). Off a terminal nothing moves: tables are appended
 * and there is no status line, so files and pipes get plain lines.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { LivetraceError } from '../protocol/errors.js';

/** A place to write text: process.stdout, process.stderr, or a file. */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A TextStream that takes bytes too (stdout, an --output file): raw text is then gathered as UTF-8 bytes. */
export interface ByteStream extends TextStream {
  write(chunk: string | Uint8Array): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';
/** Raw text gathered (in UTF-16 units, or bytes) past which it is written at once. */
const PENDING_MAX = 256 * 1024;
/**
 * The buffer raw text is gathered in as bytes: twice PENDING_MAX, so a line of up to
 * PENDING_MAX / 3 characters always fits after what is gathered (a UTF-16 unit is at
 * most 3 UTF-8 bytes); a longer one is written on its own.
 */
const GATHER_BYTES = 2 * PENDING_MAX;

export class Screen {
  readonly out: TextStream;
  readonly err: TextStream;
  private status = '';
  /** Lines of the table drawn in place that is still the last thing on out. */
  private tableLines = 0;
  /** Raw text for out not written yet (off a terminal): see raw(). */
  private pending = '';
  /** The same as UTF-8 bytes when out takes bytes: `used` bytes of `gathered`. */
  private gathered: Buffer | undefined;
  private used = 0;
  private readonly bytesOut: ByteStream | undefined;
  private flushing: NodeJS.Immediate | undefined;

  /** `bytes`: out takes Uint8Array chunks too (a ByteStream), and raw text is gathered as bytes (see raw()). */
  constructor(out: TextStream, err: TextStream, options: { bytes?: boolean } = {}) {
    this.out = out;
    this.err = err;
    if (options.bytes === true) this.bytesOut = out as ByteStream;
  }

  /** True when a status line can be shown. */
  get hasStatus(): boolean {
    return this.err.isTTY === true;
  }

  /** Text (one or more lines) on out. */
  print(text: string): void {
    this.around(() => this.out.write(`${text}\n`));
    this.tableLines = 0;
  }

  /** Text on err. */
  info(text: string): void {
    this.around(() => this.err.write(`${text}\n`));
    if (this.err.isTTY === true) this.tableLines = 0;
  }

  /**
   * Raw text on out, as a format produced it (json and pino lines end with their newline).
   * Off a terminal it is gathered and written once a turn (or every PENDING_MAX chars):
   * stdout to a file or a pipe is written synchronously, and a write per record was a
   * system call per event, the CLI's largest cost when streaming (6 us an event here).
   * Anything else written to either stream writes what is gathered first, so the order
   * of lines holds; flush() writes it now (the trace's end).
   * When out takes bytes, the text is gathered as UTF-8 in one buffer, each line
   * encoded as it comes: a string of a turn's lines joined by `+=` cost more to flatten
   * and encode at the write (600 ns a 280-byte line on Node 20, the CLI's largest cost
   * when streaming) than encoding each into the buffer (160 ns).
   */
  raw(text: string): void {
    this.tableLines = 0;
    if (this.out.isTTY === true) {
      this.around(() => this.out.write(text));
      return;
    }
    if (this.bytesOut !== undefined) {
      if (this.gathered === undefined || text.length * 3 > this.gathered.length - this.used) {
        if (this.used > 0) this.flush();
        if (text.length * 3 > GATHER_BYTES) {
          this.around(() => this.out.write(text));
          return;
        }
        this.gathered = Buffer.allocUnsafe(GATHER_BYTES);
      }
      this.used += this.gathered.write(text, this.used);
      if (this.used >= PENDING_MAX) this.flush();
      else this.flushing ??= setImmediate(this.flushNow);
      return;
    }
    this.pending += text;
    if (this.pending.length >= PENDING_MAX) this.flush();
    else this.flushing ??= setImmediate(this.flushNow);
  }

  /**
   * A line given as UTF-8 bytes (a raw record's JSON, without its newline), as raw() would
   * write its text and a newline: copied into the gathered bytes when out takes bytes.
   */
  rawBytes(bytes: Uint8Array): void {
    if (this.bytesOut === undefined || this.out.isTTY === true || bytes.length + 1 > GATHER_BYTES) {
      this.raw(`${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8')}\n`);
      return;
    }
    this.tableLines = 0;
    if (this.gathered === undefined || bytes.length + 1 > this.gathered.length - this.used) {
      if (this.used > 0) this.flush();
      this.gathered = Buffer.allocUnsafe(GATHER_BYTES);
    }
    this.gathered.set(bytes, this.used);
    this.used += bytes.length;
    this.gathered[this.used++] = 0x0a;
    if (this.used >= PENDING_MAX) this.flush();
    else this.flushing ??= setImmediate(this.flushNow);
  }

  /** Writes the raw text gathered so far. */
  flush(): void {
    if (this.flushing !== undefined) {
      clearImmediate(this.flushing);
      this.flushing = undefined;
    }
    if (this.used > 0) {
      const chunk = this.gathered!.subarray(0, this.used);
      // A new buffer for the next lines: a pipe may hold this one until it drains.
      this.gathered = undefined;
      this.used = 0;
      this.around(() => this.bytesOut!.write(chunk));
      return;
    }
    if (this.pending === '') return;
    const text = this.pending;
    this.pending = '';
    this.around(() => this.out.write(text));
  }

  private readonly flushNow = (): void => {
    this.flushing = undefined;
    this.flush();
  };

  /** A table on out, replacing the previous one in place when possible. */
  table(text: string): void {
    this.around(() => {
      if (this.out.isTTY !== true) {
        this.out.write(`${text}\n`);
        return;
      }
      if (this.tableLines > 0) this.out.write(`\x1b[${this.tableLines}A\x1b[0J`);
      this.out.write(`${text}\n`);
    });
    this.tableLines = this.out.isTTY === true ? text.split('\n').length : 0;
  }

  /** Sets the status line (on a terminal only); '' removes it. */
  setStatus(text: string): void {
    if (!this.hasStatus) return;
    const width = Math.max(10, (this.err.columns ?? 80) - 1);
    const line = text.length > width ? `${text.slice(0, width - 1)}…` : text;
    if (line === this.status) return;
    if (this.status !== '' || line !== '') this.err.write(`${CLEAR_LINE}${line}`);
    this.status = line;
  }

  /** Removes the status line for good (end of the trace). */
  clearStatus(): void {
    this.setStatus('');
  }

  private around(write: () => void): void {
    if (this.pending !== '' || this.used > 0) this.flush();
    const status = this.status;
    if (status !== '') this.err.write(CLEAR_LINE);
    write();
    if (status !== '') this.err.write(status);
  }
}

/** Where events go: stdout, or the file of --output. */
export interface Output {
  /** Takes bytes too: `new Screen(output.stream, err, { bytes: true })`. */
  stream: ByteStream;
  /** Resolves when the stream can take more (a pipe that drained); at once for files. */
  drained(): Promise<void>;
  close(): void;
}

export function openOutput(file: string | undefined): Output {
  if (file === undefined) {
    const stdout = process.stdout;
    return {
      stream: stdout,
      drained: () => (stdout.writableNeedDrain ? new Promise((resolve) => stdout.once('drain', () => resolve())) : Promise.resolve()),
      close: () => {},
    };
  }
  let fd: number;
  try {
    fd = openSync(file, 'w');
  } catch (error) {
    throw new LivetraceError('LT_OPTION_INVALID', `cannot write --output ${file}: ${(error as Error).message}`, { input: file, cause: error });
  }
  return {
    stream: { write: (chunk: string | Uint8Array) => (typeof chunk === 'string' ? writeSync(fd, chunk) : writeSync(fd, chunk)), isTTY: false },
    drained: () => Promise.resolve(),
    close: () => closeSync(fd),
  };
}
