/**
 * When a shell line is not yet a whole expression: `function f() {`, an open template
 * literal or comment, a string ending in a backslash. Then the REPL asks for the next line
 * with a continuation prompt instead of sending a syntax error to the target, as Node's REPL
 * does. Decided here, with acorn, so nothing reaches the target until the input is whole.
 *
 * The rule is Node's (lib/internal/repl/utils.js, isRecoverableError): the input is
 * incomplete when acorn fails only after it reached the end of the input (more text could
 * still make it valid), or on an unterminated template or comment, or on a string whose
 * line ends in a backslash. A partial token (`2e`) or a string cut by a line end is an
 * error now, and more lines would not mend it. An input starting with `{` is also tried as
 * the start of an object literal (`{ a: 1,` continues), as the REPL does.
 */
import { Parser, tokTypes } from 'acorn';

let recoverable = false;

const RecoverableParser = Parser.extend(
  (Base) =>
    class extends (Base as unknown as new (...args: unknown[]) => { type: unknown; input: string; lastTokStart: number; pos: number; nextToken(): void; raise(pos: number, message: string): never }) {
      override nextToken(): void {
        super.nextToken();
        if (this.type === tokTypes.eof) recoverable = true;
      }
      override raise(pos: number, message: string): never {
        if (message === 'Unterminated template' || message === 'Unterminated comment') recoverable = true;
        else if (message === 'Unterminated string constant' && /\\(?:\r\n?|\n|\u2028|\u2029)$/.test(this.input.slice(this.lastTokStart, this.pos))) recoverable = true;
        return super.raise(pos, message);
      }
    } as unknown as typeof Parser,
);

/** True when `source` cannot be evaluated yet because it continues on the next line. */
export function continuesOnNextLine(source: string): boolean {
  const plain = incomplete(source);
  // Whole as it is (`{ a: 1 }` is a block): nothing to wait for.
  if (plain === null) return false;
  return plain || (/^\s*\{/.test(source) && incomplete(`(${source}`) === true);
}

/** Null when `source` parses; else whether more lines could make it parse. */
function incomplete(source: string): boolean | null {
  recoverable = false;
  try {
    // The newline the user typed: a backslash before it continues a string.
    RecoverableParser.parse(`${source}\n`, { ecmaVersion: 'latest', allowAwaitOutsideFunction: true });
    return null;
  } catch {
    return recoverable;
  }
}
