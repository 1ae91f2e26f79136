/**
 * The lexer turns pattern text into tokens, on demand, for the parser.
 *
 * A pattern has two lexical worlds. Its head, `module:function`, is made of globs
 * (`src/**\/repo*`, `UserRepo#save`, `node:fs`), where `*`, `/` and `.` are glob
 * characters; everything after the function glob (arguments, `/arity`, the guard,
 * actions) is made of expression tokens, where `*` multiplies and `/` divides or opens
 * a regular expression. The lexer therefore walks through four states: module glob,
 * colon, function glob, expressions. A glob can also be written as a quoted string
 * when it holds characters a bare glob cannot (spaces, quotes, parentheses, ':').
 *
 * Whether `/` starts a regular expression is decided as in JavaScript, from the previous
 * token: after something that ends a value (a name, literal, `)`, `]`, `}`, or the
 * function glob, where `/` means arity) it is an operator; anywhere else a regex.
 *
 * Errors inside a token (an unterminated string, a bad escape, a malformed number) are
 * thrown here with their column; a character that starts no token at all becomes an
 * `invalid` token so that the parser can say what it expected instead.
 */
import { columnAt, describeText, syntaxError } from './diagnostic.js';

export type Punctuator =
  | ':'
  | '('
  | ')'
  | '['
  | ']'
  | '{'
  | '}'
  | ','
  | '|'
  | '.'
  | '...'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '!'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '~'
  | '->';

interface Span {
  /** UTF-16 offset of the first character. */
  start: number;
  /** UTF-16 offset just past the last character. */
  end: number;
}

export type Token = Span &
  (
    | { kind: 'glob'; value: string; quoted: boolean }
    | { kind: 'ident'; value: string }
    | { kind: 'number'; value: number }
    | { kind: 'bigint'; value: string }
    | { kind: 'string'; value: string }
    | { kind: 'regex'; source: string; flags: string }
    | { kind: 'punct'; value: Punctuator }
    | { kind: 'invalid'; value: string }
    | { kind: 'eof' }
  );

export type GlobKind = 'module' | 'function';

const PUNCTUATORS: readonly Punctuator[] = [
  '...',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '->',
  ':',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '|',
  '.',
  '<',
  '>',
  '!',
  '+',
  '-',
  '*',
  '/',
  '%',
  '~',
];

const BARE_GLOB_ASCII = /^[A-Za-z0-9_$.*?\-@+!~[\]{},#/^]$/;
const ID_START = /^[\p{ID_Start}$_]$/u;
const ID_CONTINUE = /^[\p{ID_Continue}$\u200C\u200D]$/u;
const SPACE = /^\s$/;
const DIGIT = /^[0-9]$/;
const HEX = /^[0-9A-Fa-f]$/;
const LINE_TERMINATOR = /^[\n\r\u2028\u2029]$/;

/** JavaScript's whitespace; printable ASCII other than ' ' is never space, so the regex is skipped for it. */
function isSpace(char: string): boolean {
  if (char === ' ') return true;
  const code = char.charCodeAt(0);
  return (code < 0x21 || code > 0x7e) && SPACE.test(char);
}

/** A character a bare (unquoted) glob may contain. Non-ASCII letters are welcome; spaces and controls are not. */
export function isBareGlobChar(char: string, kind: GlobKind): boolean {
  if (char.length === 1 && char.charCodeAt(0) < 0x80) return BARE_GLOB_ASCII.test(char) && !(kind === 'function' && char === '/');
  const code = char.codePointAt(0) as number;
  const loneSurrogate = code >= 0xd800 && code <= 0xdfff;
  return code > 0x9f && code !== 0xfeff && !loneSurrogate && !SPACE.test(char);
}

/** True when the printer may write `glob` without quotes and read it back unchanged. */
export function isBareGlob(glob: string, kind: GlobKind): boolean {
  const body = kind === 'module' && glob.startsWith('node:') ? glob.slice(5) : glob;
  if (body.length === 0) return false;
  for (const char of body) if (!isBareGlobChar(char, kind)) return false;
  return true;
}

export function isIdentifierStart(char: string): boolean {
  return ID_START.test(char);
}

export class Lexer {
  private pos = 0;
  private state: 'module' | 'colon' | 'function' | 'expression' = 'module';
  private regexAllowed = true;

  constructor(readonly text: string) {}

  next(): Token {
    this.skipSpace();
    const start = this.pos;
    if (start >= this.text.length) return { kind: 'eof', start, end: start };
    const char = this.charAt(start);
    if (this.state === 'module' || this.state === 'function') {
      const kind: GlobKind = this.state;
      if (char === '"' || char === "'" || isBareGlobChar(char, kind)) {
        this.state = kind === 'module' ? 'colon' : 'expression';
        // After the function glob, '/' introduces the arity.
        this.regexAllowed = false;
        return char === '"' || char === "'" ? this.quotedGlob(start) : this.bareGlob(start, kind);
      }
    }
    if (this.state === 'colon' && char === ':') this.state = 'function';
    else if (this.state !== 'expression' && char !== ':') this.state = 'expression';
    const token = this.expressionToken(start, char);
    this.regexAllowed = !endsValue(token);
    return token;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text.charAt(this.pos))) this.pos++;
  }

  /** The character (code point) at `offset`, as a string of one or two code units. */
  private charAt(offset: number): string {
    const code = this.text.codePointAt(offset);
    return code === undefined ? '' : String.fromCodePoint(code);
  }

  private bareGlob(start: number, kind: GlobKind): Token {
    let end = this.scanBare(start, kind);
    const value = this.text.slice(start, end);
    // 'node:fs:readFile': a builtin's scheme is part of the module glob, but only when
    // another ':' follows; 'node:readFile' is module 'node', function 'readFile'.
    if (kind === 'module' && value === 'node' && this.text.charAt(end) === ':') {
      const rest = this.scanBare(end + 1, 'module');
      if (rest > end + 1) {
        let after = rest;
        while (after < this.text.length && isSpace(this.text.charAt(after))) after++;
        if (this.text.charAt(after) === ':') end = rest;
      }
    }
    this.pos = end;
    return { kind: 'glob', value: this.text.slice(start, end), quoted: false, start, end };
  }

  private scanBare(from: number, kind: GlobKind): number {
    let offset = from;
    while (offset < this.text.length) {
      const char = this.charAt(offset);
      if (!isBareGlobChar(char, kind)) break;
      // In 'm:f->stack' the function glob ends before the arrow.
      if (kind === 'function' && char === '-' && this.text.charAt(offset + 1) === '>') break;
      offset += char.length;
    }
    return offset;
  }

  private quotedGlob(start: number): Token {
    const { value, end } = this.scanString(start);
    this.pos = end;
    return { kind: 'glob', value, quoted: true, start, end };
  }

  private expressionToken(start: number, char: string): Token {
    if (char === '"' || char === "'") {
      const { value, end } = this.scanString(start);
      this.pos = end;
      return { kind: 'string', value, start, end };
    }
    if (DIGIT.test(char)) return this.number(start);
    if (ID_START.test(char)) {
      let end = start + char.length;
      while (end < this.text.length) {
        const next = this.charAt(end);
        if (!ID_CONTINUE.test(next)) break;
        end += next.length;
      }
      this.pos = end;
      return { kind: 'ident', value: this.text.slice(start, end), start, end };
    }
    if (char === '/' && this.regexAllowed) {
      const { source, flags, end } = scanRegex(this.text, start);
      this.pos = end;
      return { kind: 'regex', source, flags, start, end };
    }
    for (const punctuator of PUNCTUATORS) {
      if (this.text.startsWith(punctuator, start)) {
        this.pos = start + punctuator.length;
        this.nearMiss(punctuator, start);
        return { kind: 'punct', value: punctuator, start, end: this.pos };
      }
    }
    this.nearMiss(char, start);
    this.pos = start + char.length;
    return { kind: 'invalid', value: char, start, end: this.pos };
  }

  /** Names the token meant when a JavaScript habit (===, =, &, ..) shows up. */
  private nearMiss(read: string, start: number): void {
    const next = this.text.charAt(start + read.length);
    let meant: string | undefined;
    if ((read === '==' || read === '!=') && next === '=') meant = `'${read}' (comparisons are already strict)`;
    else if (read === '.' && next === '.') meant = "'...'";
    else if (read === '=') meant = "'=='";
    else if (read === '&') meant = "'&&'";
    if (meant !== undefined) throw syntaxError(this.text, start, meant, describeText(read === '=' || read === '&' ? read : read + next));
  }

  private number(start: number): Token {
    const text = this.text;
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
    const after = this.charAt(end);
    if (after !== '' && (ID_CONTINUE.test(after) || (after === '.' && DIGIT.test(text.charAt(end + 1))))) {
      throw syntaxError(text, end, 'the end of the number', describeFound(text, end));
    }
    this.pos = end;
    return token;
  }

  /** A single- or double-quoted string starting at `start`, with its escapes decoded. */
  private scanString(start: number): { value: string; end: number } {
    const text = this.text;
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

/** Whether `token` ends a value, so that a following '/' divides rather than opens a regex. */
function endsValue(token: Token): boolean {
  switch (token.kind) {
    case 'ident':
      return token.value !== 'in' && token.value !== 'when';
    case 'punct':
      return token.value === ')' || token.value === ']' || token.value === '}';
    case 'number':
    case 'bigint':
    case 'string':
    case 'regex':
    case 'glob':
      return true;
    default:
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

/** Every token of `text`, for tests and tools; the parser pulls tokens one at a time instead. */
export function tokenize(text: string): Token[] {
  const lexer = new Lexer(text);
  const tokens: Token[] = [];
  for (;;) {
    const token = lexer.next();
    tokens.push(token);
    if (token.kind === 'eof') return tokens;
  }
}
