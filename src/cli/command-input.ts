/**
 * Commands typed (or piped) into a running trace, one per line:
 *
 *   +src/db:query     add a pattern to the session ("one level deeper")
 *   ?findUser         ask the agent what findUser calls
 *   -                 stop the trace (as Ctrl-C does)
 *
 * The end-of-input rule: on a terminal, end of input (Ctrl-D) stops the trace, like `-`.
 * When stdin is a pipe or a file it is a script of commands: its lines are applied in
 * order and its end only means there are no more, and the trace runs on to its limits.
 * So `livetrace trace ... </dev/null` in CI runs until --max/--for, and
 * `printf '+src/db:query\n' | livetrace trace ...` adds a pattern and keeps tracing.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable } from 'node:stream';

export type InputCommand =
  | { kind: 'add'; pattern: string }
  | { kind: 'deeper'; fn: string }
  | { kind: 'stop' }
  | { kind: 'help'; text: string };

export const INPUT_HELP = "commands: +<pattern> adds a pattern, ?<function> shows what it calls, - stops";

/** One line of input as a command; undefined for a blank line. */
export function parseInputLine(line: string): InputCommand | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  if (text === '-') return { kind: 'stop' };
  if (text.startsWith('+')) {
    const pattern = text.slice(1).trim();
    return pattern === '' ? { kind: 'help', text: `'+' needs a pattern; ${INPUT_HELP}` } : { kind: 'add', pattern };
  }
  if (text.startsWith('?')) {
    const fn = text.slice(1).trim();
    return fn === '' ? { kind: 'help', text: `'?' needs a function; ${INPUT_HELP}` } : { kind: 'deeper', fn };
  }
  return { kind: 'help', text: `unknown command '${text.slice(0, 80)}'; ${INPUT_HELP}` };
}

export interface CommandInput {
  close(): void;
}

/**
 * Reads commands from `input` and hands them to `handle` one at a time, in order.
 * `isTerminal` decides what end of input means (see above).
 */
export function readCommands(
  input: Readable & { isTTY?: boolean },
  handle: (command: InputCommand) => Promise<void>,
): CommandInput {
  const lines: Interface = createInterface({ input, terminal: false, crlfDelay: Infinity });
  let queue = Promise.resolve();
  let closed = false;
  lines.on('line', (line) => {
    const command = parseInputLine(line);
    if (command !== undefined) queue = queue.then(() => handle(command)).catch(() => undefined);
  });
  lines.on('close', () => {
    if (!closed && input.isTTY === true) queue = queue.then(() => handle({ kind: 'stop' })).catch(() => undefined);
  });
  return {
    close() {
      closed = true;
      lines.close();
      // Reading must not keep the CLI alive once the trace is over.
      input.destroy();
    },
  };
}
