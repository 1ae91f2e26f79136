/** How the pattern language reports a problem: a coded LivetraceError pointing into the pattern. */
import { LivetraceError, type ErrorCode } from '../protocol/errors.js';
import { quoteString } from './quote.js';

/** 1-based column of a UTF-16 offset, counted in code points so a caret lines up under astral characters. */
export function columnAt(text: string, offset: number): number {
  let column = 1;
  for (let i = 0; i < offset && i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const isLeadOfPair = unit >= 0xd800 && unit <= 0xdbff && i + 1 < offset;
    if (isLeadOfPair) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    column++;
  }
  return column;
}

/** A syntax error: what was expected and what was found at `offset`. */
export function syntaxError(input: string, offset: number, expected: string, found: string): LivetraceError {
  const column = columnAt(input, offset);
  return new LivetraceError('LT_PATTERN_SYNTAX', `syntax error at column ${column}: expected ${expected}, found ${found}`, {
    input,
    column,
    expected,
    found,
  });
}

/** Any other pattern error; `offset` is known when the pattern came as text. */
export function patternError(code: ErrorCode, message: string, input: string, offset?: number): LivetraceError {
  if (offset === undefined) return new LivetraceError(code, message, { input });
  const column = columnAt(input, offset);
  return new LivetraceError(code, `${message} (column ${column})`, { input, column });
}

/**
 * How a piece of the pattern is named in messages: quoted, escaped (a line break in a
 * message would break the caret line) and shortened, so a huge token stays readable.
 */
export function describeText(text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 37)}...` : text;
  return quoteString(short, "'");
}
