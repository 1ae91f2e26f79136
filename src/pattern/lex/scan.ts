/**
 * The scanners for tokens with an inside: numbers, quoted strings (with their escapes)
 * and regular expression literals. Each starts at the token's first character, returns
 * where the token ends, and throws a coded syntax error with the column of the fault.
 */
import { columnAt, describeText, syntaxError } from '../diagnostic.js';
import { charAt, DIGIT, HEX, ID_CONTINUE, LINE_TERMINATOR } from './chars.js';
import type { Token } from './tokens.js';

/** A number or bigint literal starting at `start`; the token records where it ends. */
export function scanNumber(text: string, start: number): Token {
  let end = start;
  const digits = (): void => {
    while (DIGIT.test(text.charAt(end))) end++;
  };
  digits();
  let integer = true;
  if (text.charAt(end) === '.' && DIGIT.test(text.charAt(end + 1))) {
    integer = false;
    end++;
    digits();
  }
  if (text.charAt(end) === 'e' || text.charAt(end) === 'E') {
    integer = false;
    let exponent = end + 1;
    if (text.charAt(exponent) === '+' || text.charAt(exponent) === '-') exponent++;
    if (!DIGIT.test(text.charAt(exponent))) {
      throw syntaxError(text, exponent, 'the digits of an exponent', describeFound(text, exponent));
    }
    end = exponent;
    digits();
  }
  const literal = text.slice(start, end);
  let token: Token;
  if (integer && text.charAt(end) === 'n') {
    end++;
    token = { kind: 'bigint', value: BigInt(literal).toString(), start, end };
  } else {
    token = { kind: 'number', value: Number(literal), start, end };
  }
  const after = charAt(text, end);
  if (after !== '' && (ID_CONTINUE.test(after) || (after === '.' && DIGIT.test(text.charAt(end + 1))))) {
    throw syntaxError(text, end, 'the end of the number', describeFound(text, end));
  }
  return token;
}

/** A single- or double-quoted string starting at `start`, with its escapes decoded. */
export function scanString(text: string, start: number): { value: string; end: number } {
  const quote = text.charAt(start);
  const closing = `a closing ${quote === '"' ? 'double' : 'single'} quote`;
  let value = '';
  let offset = start + 1;
  for (;;) {
    if (offset >= text.length) {
      throw syntaxError(text, offset, `${closing} (the string opens at column ${columnAt(text, start)})`, 'end of pattern');
    }
    const char = text.charAt(offset);
    if (char === quote) return { value, end: offset + 1 };
    if (char === '\n' || char === '\r') throw syntaxError(text, offset, closing, 'a line break');
    if (char !== '\\') {
      value += char;
      offset++;
      continue;
    }
    const decoded = decodeEscape(text, offset);
    value += decoded.value;
    offset = decoded.end;
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  '/': '/',
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  v: '\v',
};

/** Decodes the escape sequence whose backslash is at `offset`. */
function decodeEscape(text: string, offset: number): { value: string; end: number } {
  const letter = text.charAt(offset + 1);
  const simple = Object.hasOwn(SIMPLE_ESCAPES, letter) ? SIMPLE_ESCAPES[letter] : undefined;
  if (simple !== undefined) return { value: simple, end: offset + 2 };
  if (letter === '0' && !DIGIT.test(text.charAt(offset + 2))) return { value: '\0', end: offset + 2 };
  if (letter === 'x') return { value: String.fromCharCode(hexRun(text, offset + 2, 2, 2)), end: offset + 4 };
  if (letter === 'u' && text.charAt(offset + 2) === '{') {
    let close = offset + 3;
    while (HEX.test(text.charAt(close))) close++;
    const digits = close - (offset + 3);
    const code = digits >= 1 && digits <= 6 ? Number.parseInt(text.slice(offset + 3, close), 16) : -1;
    if (text.charAt(close) !== '}' || code < 0 || code > 0x10ffff) {
      throw syntaxError(text, offset, 'a code point escape such as \\u{1F600}', describeFound(text, offset, close + 1 - offset));
    }
    return { value: String.fromCodePoint(code), end: close + 1 };
  }
  if (letter === 'u') return { value: String.fromCharCode(hexRun(text, offset + 2, 4, 4)), end: offset + 6 };
  const found = letter === '' ? 'end of pattern' : LINE_TERMINATOR.test(letter) ? 'a line break' : describeText(`\\${letter}`);
  throw syntaxError(text, offset, "an escape such as \\n, \\\\, \\', \\\", \\x41 or \\u0041", found);
}

function hexRun(text: string, from: number, min: number, max: number): number {
  let end = from;
  while (end - from < max && HEX.test(text.charAt(end))) end++;
  if (end - from < min) throw syntaxError(text, end, `${min} hexadecimal digits`, describeFound(text, end));
  return Number.parseInt(text.slice(from, end), 16);
}

/**
 * Scans a regular expression literal whose opening '/' is at `start`, as JavaScript
 * does: a backslash escapes the next character, and '/' does not close inside a class.
 */
export function scanRegex(text: string, start: number): { source: string; flags: string; end: number } {
  let offset = start + 1;
  let inClass = false;
  for (;;) {
    const char = text.charAt(offset);
    if (char === '' || LINE_TERMINATOR.test(char)) {
      throw syntaxError(text, offset, "'/' to close the regular expression", char === '' ? 'end of pattern' : 'a line break');
    }
    if (char === '\\') {
      const escaped = text.charAt(offset + 1);
      if (escaped === '' || LINE_TERMINATOR.test(escaped)) {
        throw syntaxError(text, offset + 1, 'a character after \\', escaped === '' ? 'end of pattern' : 'a line break');
      }
      offset += 2;
      continue;
    }
    if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (char === '/' && !inClass) break;
    offset++;
  }
  const source = text.slice(start + 1, offset);
  if (source.length === 0) throw syntaxError(text, start, 'a regular expression such as /^a/i', "'//'");
  let end = offset + 1;
  while (end < text.length && ID_CONTINUE.test(text.charAt(end))) end++;
  return { source, flags: text.slice(offset + 1, end), end };
}

/** True when `/source/` reads back as exactly this source (what the printer needs). */
export function isLexableRegexSource(source: string): boolean {
  if (source.length === 0) return false;
  try {
    return scanRegex(`/${source}/`, 0).end === source.length + 2;
  } catch {
    return false;
  }
}

/** How the character(s) at `offset` are named in a message. */
export function describeFound(text: string, offset: number, length = 1): string {
  if (offset >= text.length) return 'end of pattern';
  const slice = text.slice(offset, offset + length);
  if (LINE_TERMINATOR.test(slice.charAt(0))) return 'a line break';
  return describeText(slice);
}
