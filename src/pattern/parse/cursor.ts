/**
 * The parser's view of the token stream: lookahead, expectations, the position of every
 * node (for the errors the checks find after parsing) and the nesting bound (MAX_DEPTH)
 * that turns hostile input into a coded error instead of a stack overflow.
 */
import { MAX_DEPTH } from '../ast.js';
import { describeText, syntaxError } from '../diagnostic.js';
import { Lexer } from '../lexer.js';
import type { Punctuator, Token } from '../lex/tokens.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** How a token is named in "expected ..., found ..." messages. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case 'eof':
      return 'end of pattern';
    case 'string':
      return `the string ${describeText(token.value)}`;
    case 'glob':
    case 'ident':
    case 'punct':
    case 'invalid':
      return describeText(token.value);
    case 'number':
    case 'bigint':
      return `the number ${describeText(token.kind === 'bigint' ? `${token.value}n` : String(token.value))}`;
    case 'regex':
      return `the regular expression ${describeText(`/${token.source}/${token.flags}`)}`;
  }
}

export class Cursor {
  /** Where each node starts in the text, for errors found after parsing. */
  readonly positions = new WeakMap<object, number>();
  readonly globPositions = new Map<'module' | 'function', number>();
  private readonly lexer: Lexer;
  private readonly buffer: Token[] = [];
  private depth = 0;

  constructor(readonly text: string) {
    this.lexer = new Lexer(text);
  }

  peek(ahead = 0): Token {
    while (this.buffer.length <= ahead) ArrayPrototypePush(this.buffer, this.lexer.next());
    return this.buffer[ahead] as Token;
  }

  take(): Token {
    const token = this.peek();
    this.buffer.shift();
    return token;
  }

  isPunct(token: Token, value: Punctuator): boolean {
    return token.kind === 'punct' && token.value === value;
  }

  isKeyword(token: Token, word: string): boolean {
    return token.kind === 'ident' && token.value === word;
  }

  expectPunct(value: Punctuator, expected: string): Token {
    const token = this.take();
    if (!this.isPunct(token, value)) throw this.unexpected(token, expected);
    return token;
  }

  unexpected(token: Token, expected: string): Error {
    return syntaxError(this.text, token.start, expected, describeToken(token));
  }

  at<T extends object>(node: T, offset: number): T {
    this.positions.set(node, offset);
    return node;
  }

  /** Runs a nested construct, refusing nesting deep enough to threaten the stack. */
  nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      throw syntaxError(this.text, token.start, `at most ${MAX_DEPTH} levels of nesting`, 'deeper nesting');
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }
}
