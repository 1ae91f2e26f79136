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
import { describeText, syntaxError } from './diagnostic.js';
import { charAt, DIGIT, ID_CONTINUE, ID_START, isBareGlobChar, isSpace } from './lex/chars.js';
import { scanNumber, scanRegex, scanString } from './lex/scan.js';
import { endsValue, PUNCTUATORS, type GlobKind, type Token } from './lex/tokens.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

export class Lexer {
  private pos = 0;
  private state: 'module' | 'colon' | 'function' | 'expression' = 'module';
  private regexAllowed = true;

  constructor(readonly text: string) {}

  next(): Token {
    this.skipSpace();
    const start = this.pos;
    if (start >= this.text.length) return { kind: 'eof', start, end: start };
    const char = charAt(this.text, start);
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
      const char = charAt(this.text, offset);
      if (!isBareGlobChar(char, kind)) break;
      // In 'm:f->stack' the function glob ends before the arrow.
      if (kind === 'function' && char === '-' && this.text.charAt(offset + 1) === '>') break;
      offset += char.length;
    }
    return offset;
  }

  private quotedGlob(start: number): Token {
    const { value, end } = scanString(this.text, start);
    this.pos = end;
    return { kind: 'glob', value, quoted: true, start, end };
  }

  private expressionToken(start: number, char: string): Token {
    if (char === '"' || char === "'") {
      const { value, end } = scanString(this.text, start);
      this.pos = end;
      return { kind: 'string', value, start, end };
    }
    if (DIGIT.test(char)) {
      const token = scanNumber(this.text, start);
      this.pos = token.end;
      return token;
    }
    if (ID_START.test(char)) {
      let end = start + char.length;
      while (end < this.text.length) {
        const next = charAt(this.text, end);
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
}

/** Every token of `text`, for tests and tools; the parser pulls tokens one at a time instead. */
export function tokenize(text: string): Token[] {
  const lexer = new Lexer(text);
  const tokens: Token[] = [];
  for (;;) {
    const token = lexer.next();
    ArrayPrototypePush(tokens, token);
    if (token.kind === 'eof') return tokens;
  }
}
