import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseInputLine, readCommands, type InputCommand } from '../../../src/cli/command-input.js';

describe('parseInputLine', () => {
  it('reads +pattern, ?function, - and ignores blank lines', () => {
    expect(parseInputLine('+src/db:query')).toEqual({ kind: 'add', pattern: 'src/db:query' });
    expect(parseInputLine('  + src/db:query(sql) when ms > 10 ')).toEqual({ kind: 'add', pattern: 'src/db:query(sql) when ms > 10' });
    expect(parseInputLine('?findUser')).toEqual({ kind: 'deeper', fn: 'findUser' });
    expect(parseInputLine('-')).toEqual({ kind: 'stop' });
    expect(parseInputLine('   ')).toBeUndefined();
  });

  it('answers anything else with help', () => {
    expect(parseInputLine('+')).toMatchObject({ kind: 'help', text: expect.stringContaining("'+' needs a pattern") });
    expect(parseInputLine('?')).toMatchObject({ kind: 'help', text: expect.stringContaining("'?' needs a function") });
    expect(parseInputLine('stop please')).toMatchObject({ kind: 'help', text: expect.stringContaining("unknown command 'stop please'") });
  });
});

describe('readCommands', () => {
  /** A reader on a fresh stream; `drained()` resolves once the input has ended and its lines are handled. */
  function feed(isTTY: boolean): { input: PassThrough & { isTTY?: boolean }; seen: InputCommand[]; drained: () => Promise<void> } {
    const input: PassThrough & { isTTY?: boolean } = new PassThrough();
    input.isTTY = isTTY;
    const seen: InputCommand[] = [];
    readCommands(input, async (command) => void seen.push(command));
    const ended = once(input, 'end');
    return {
      input,
      seen,
      // readline closes on 'end' in the same turn; the handlers run on the next microtasks.
      drained: () => ended.then(() => new Promise((resolve) => setImmediate(resolve))),
    };
  }

  it('applies piped lines in order, and the end of a pipe stops nothing', async () => {
    const { input, seen, drained } = feed(false);
    input.end('+a:b\n?f\n\n-\n');
    await drained();
    expect(seen.map((c) => c.kind)).toEqual(['add', 'deeper', 'stop']);
    const quiet = feed(false);
    quiet.input.end();
    await quiet.drained();
    expect(quiet.seen).toEqual([]);
  });

  it('stops at the end of input on a terminal (Ctrl-D)', async () => {
    const { input, seen, drained } = feed(true);
    input.end('+a:b\n');
    await drained();
    expect(seen.map((c) => c.kind)).toEqual(['add', 'stop']);
  });

  it('stops reading when closed, without reporting a stop', async () => {
    const input: PassThrough & { isTTY?: boolean } = new PassThrough();
    input.isTTY = true;
    const seen: InputCommand[] = [];
    const reader = readCommands(input, async (command) => void seen.push(command));
    reader.close();
    await once(input, 'close');
    expect(seen).toEqual([]);
    expect(input.destroyed).toBe(true);
  });
});
