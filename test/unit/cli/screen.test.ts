import { describe, expect, it } from 'vitest';
import { Screen, type TextStream } from '../../../src/cli/screen.js';

function stream(isTTY: boolean, columns = 80): TextStream & { text: string } {
  const s = { text: '', isTTY, columns, write: (chunk: string) => void (s.text += chunk) };
  return s;
}

const CLEAR = '\r\x1b[2K';

describe('Screen', () => {
  it('writes plain lines off a terminal: no status line, tables appended', () => {
    const out = stream(false);
    const err = stream(false);
    const screen = new Screen(out, err);
    screen.setStatus('tracing 1');
    screen.print('a');
    screen.table('t1');
    screen.table('t2');
    screen.info('i');
    expect(out.text).toBe('a\nt1\nt2\n');
    expect(err.text).toBe('i\n');
  });

  it('off a terminal, gathers raw lines into one write a turn, written first when anything else is', async () => {
    const writes: string[] = [];
    const out = { isTTY: false, write: (chunk: string) => void writes.push(chunk) };
    const err = stream(false);
    const screen = new Screen(out, err);
    screen.raw('{"a":1}\n');
    screen.raw('{"a":2}\n');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n']);
    screen.raw('{"a":3}\n');
    screen.print('table');
    expect(writes).toEqual(['{"a":1}\n{"a":2}\n', '{"a":3}\n', 'table\n']);
    screen.raw('{"a":4}\n');
    screen.info('news');
    screen.raw('{"a":5}\n');
    screen.flush();
    expect(writes.slice(3)).toEqual(['{"a":4}\n', '{"a":5}\n']);
    expect(err.text).toBe('news\n');
    // On a terminal a line is written at once.
    const tty = stream(true);
    new Screen(tty, stream(true)).raw('x\n');
    expect(tty.text).toBe('x\n');
  });

  it('gathers raw lines as UTF-8 bytes when out takes bytes: one write a turn, in order with other writes', async () => {
    const writes: (string | Uint8Array)[] = [];
    const out = { isTTY: false, write: (chunk: string | Uint8Array) => void writes.push(chunk) };
    const screen = new Screen(out, stream(false), { bytes: true });
    screen.raw('{"a":"é"}\n');
    screen.raw('{"b":"\u2028 😀"}\n');
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(1);
    expect(Buffer.isBuffer(writes[0])).toBe(true);
    expect(Buffer.from(writes[0]!).toString('utf8')).toBe('{"a":"é"}\n{"b":"\u2028 😀"}\n');
    screen.raw('{"c":3}\n');
    screen.print('table');
    expect(writes.slice(1).map((w) => Buffer.from(w).toString())).toEqual(['{"c":3}\n', 'table\n']);
    // A line too long for the buffer is written on its own, after what was gathered.
    const long = `${'x'.repeat(200_000)}\n`;
    screen.raw('{"d":4}\n');
    screen.raw(long);
    screen.flush();
    expect(writes.slice(3).map((w) => Buffer.from(w).toString())).toEqual(['{"d":4}\n', long]);
    // Past the gathering bound, written at once, and every byte kept.
    const line = `${'y'.repeat(999)}\n`;
    for (let i = 0; i < 300; i++) screen.raw(line);
    screen.flush();
    expect(writes.slice(5).map((w) => Buffer.from(w).toString()).join('')).toBe(line.repeat(300));
    expect(writes.length).toBeGreaterThan(6);
  });

  it('rawBytes(): a line given as bytes joins the gathered bytes with its newline, in order with raw text', async () => {
    const writes: (string | Uint8Array)[] = [];
    const out = { isTTY: false, write: (chunk: string | Uint8Array) => void writes.push(chunk) };
    const screen = new Screen(out, stream(false), { bytes: true });
    screen.raw('{"a":1}\n');
    screen.rawBytes(Buffer.from('{"b":"é"}'));
    screen.raw('{"c":3}\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes.map((w) => Buffer.from(w).toString())).toEqual(['{"a":1}\n{"b":"é"}\n{"c":3}\n']);
    // Without bytes (or on a terminal) it is written as text.
    const text = stream(false);
    const plain = new Screen(text, stream(false));
    plain.rawBytes(Buffer.from('{"d":4}'));
    plain.flush();
    expect(text.text).toBe('{"d":4}\n');
  });

  it('wipes the status line around every write and draws it again', () => {
    const out = stream(true);
    const err = stream(true);
    const screen = new Screen(out, err);
    screen.setStatus('tracing 1 · 2 calls');
    expect(err.text).toBe(`${CLEAR}tracing 1 · 2 calls`);
    err.text = '';
    screen.print('call');
    expect(err.text).toBe(`${CLEAR}tracing 1 · 2 calls`);
    expect(out.text).toBe('call\n');
    screen.clearStatus();
    err.text = '';
    screen.print('call 2');
    expect(err.text).toBe('');
  });

  it('cuts the status line to the terminal width', () => {
    const err = stream(true, 20);
    new Screen(stream(true), err).setStatus('x'.repeat(50));
    expect(err.text).toBe(`${CLEAR}${'x'.repeat(18)}…`);
  });

  it('redraws a table in place while it is the last thing printed', () => {
    const out = stream(true);
    const screen = new Screen(out, stream(true));
    screen.table('h\nrow 1');
    screen.table('h\nrow 2');
    expect(out.text).toBe('h\nrow 1\n\x1b[2A\x1b[0Jh\nrow 2\n');
    out.text = '';
    screen.info('news');
    screen.table('h\nrow 3');
    expect(out.text).toBe('h\nrow 3\n');
  });
});
