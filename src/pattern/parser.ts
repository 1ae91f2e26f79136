/**
 * A recursive-descent parser from pattern text to the typed tree of ast.ts.
 *
 *   spec    := module ':' func [ '(' args ')' | '/' arity ] [ 'when' guard ] [ '->' actions ]
 *   args    := pat (',' pat)* [',' '...'] | '...' | (nothing)
 *   pat     := alt ; alt := single ('|' single)*
 *   single  := '_' | name | literal | 'nil' | ':' type | /regex/ | '{' entries '}' | '[' args ']'
 *   guard   := or ; or := and ('||' and)* ; and := eq ('&&' eq)* ; eq := rel (('=='|'!=') rel)*
 *   rel     := add (('<'|'<='|'>'|'>='|'in') add | '~' /regex/)* ; add := mul (('+'|'-') mul)*
 *   mul     := unary (('*'|'/'|'%') unary)* ; unary := ('!'|'-') unary | postfix
 *   postfix := primary ('.' name | '[' guard ']')*
 *
 * Nesting is bounded (MAX_DEPTH), so hostile input ends in a coded error, never a stack
 * overflow. Syntax errors say what was expected and what was found; the semantic checks
 * (unbound names, regex flags, globs) run afterwards with the node positions recorded here.
 */
import {
  ACTION_NAMES,
  CONTEXT_NAMES,
  MAX_ARITY,
  MAX_DEPTH,
  OUTCOME_NAMES,
  RESERVED_WORDS,
  TYPE_NAMES,
  type ActionName,
  type ArgPattern,
  type BinaryOperator,
  type ContextName,
  type Expr,
  type Literal,
  type OutcomeName,
  type Params,
  type PatternAst,
  type TypeName,
} from './ast.js';
import { describeText, patternError, syntaxError } from './diagnostic.js';
import { Lexer } from './lexer.js';
import type { Punctuator, Token } from './lex/tokens.js';
import { checkPattern } from './checks.js';

/** Parses one pattern; throws a LivetraceError with a LT_PATTERN_* code and never anything else. */
export function parsePattern(text: string): PatternAst {
  if (typeof text !== 'string' || text.trim() === '') {
    throw patternError('LT_PATTERN_EMPTY', 'empty pattern', typeof text === 'string' ? text : '');
  }
  const parser = new Parser(text);
  const ast = parser.parse();
  return checkPattern(ast, text, (node) => (typeof node === 'string' ? parser.globPositions.get(node) : parser.positions.get(node)));
}

const TYPE_SET: ReadonlySet<string> = new Set(TYPE_NAMES);
const ACTION_SET: ReadonlySet<string> = new Set(ACTION_NAMES);
const CONTEXT_SET: ReadonlySet<string> = new Set(CONTEXT_NAMES);
const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOME_NAMES);

const KEYWORD_LITERALS: Readonly<Record<string, Literal>> = {
  true: { kind: 'boolean', value: true },
  false: { kind: 'boolean', value: false },
  null: { kind: 'null' },
  undefined: { kind: 'undefined' },
  nil: { kind: 'nil' },
  NaN: { kind: 'number', value: Number.NaN },
  Infinity: { kind: 'number', value: Number.POSITIVE_INFINITY },
};

const EQUALITY: ReadonlySet<string> = new Set(['==', '!=']);
const RELATIONAL: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);
const ADDITIVE: ReadonlySet<string> = new Set(['+', '-']);
const MULTIPLICATIVE: ReadonlySet<string> = new Set(['*', '/', '%']);

function describeToken(token: Token): string {
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

class Parser {
  /** Where each node starts in the text, for errors found after parsing. */
  readonly positions = new WeakMap<object, number>();
  readonly globPositions = new Map<'module' | 'function', number>();
  private readonly lexer: Lexer;
  private readonly buffer: Token[] = [];
  private depth = 0;

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text);
  }

  parse(): PatternAst {
    const module = this.glob('module', 'a module glob such as src/users, pg or node:fs');
    this.expectPunct(':', "':' between the module and the function glob");
    const fn = this.glob('function', 'a function glob such as findUser, *User or UserRepo#save');
    const params = this.params();
    let guard: Expr | null = null;
    if (this.isKeyword(this.peek(), 'when')) {
      this.take();
      guard = this.expression();
    }
    const actions = this.isPunct(this.peek(), '->') ? this.actions() : [];
    const end = this.peek();
    if (end.kind !== 'eof') {
      const expected = [params === null && guard === null ? "'(' or '/'" : '', guard === null ? "'when'" : '', actions.length === 0 ? "'->'" : '']
        .filter(Boolean)
        .concat('end of pattern')
        .join(', ');
      throw this.unexpected(end, expected);
    }
    return { kind: 'pattern', module, function: fn, params, guard, actions };
  }

  // ---- tokens -------------------------------------------------------------------

  private peek(ahead = 0): Token {
    while (this.buffer.length <= ahead) this.buffer.push(this.lexer.next());
    return this.buffer[ahead] as Token;
  }

  private take(): Token {
    const token = this.peek();
    this.buffer.shift();
    return token;
  }

  private isPunct(token: Token, value: Punctuator): boolean {
    return token.kind === 'punct' && token.value === value;
  }

  private isKeyword(token: Token, word: string): boolean {
    return token.kind === 'ident' && token.value === word;
  }

  private expectPunct(value: Punctuator, expected: string): Token {
    const token = this.take();
    if (!this.isPunct(token, value)) throw this.unexpected(token, expected);
    return token;
  }

  private unexpected(token: Token, expected: string): Error {
    return syntaxError(this.text, token.start, expected, describeToken(token));
  }

  private at<T extends object>(node: T, offset: number): T {
    this.positions.set(node, offset);
    return node;
  }

  /** Runs a nested construct, refusing nesting deep enough to threaten the stack. */
  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      throw syntaxError(this.text, token.start, `at most ${MAX_DEPTH} levels of nesting`, 'deeper nesting');
    }
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  // ---- head -----------------------------------------------------------------------

  private glob(kind: 'module' | 'function', expected: string): string {
    const token = this.take();
    if (token.kind !== 'glob') throw this.unexpected(token, expected);
    if (token.value === '') throw syntaxError(this.text, token.start, expected, 'an empty glob');
    this.globPositions.set(kind, token.start);
    return token.value;
  }

  private params(): Params | null {
    const token = this.peek();
    if (this.isPunct(token, '(')) {
      this.take();
      const { patterns, rest } = this.list(')', "a pattern such as _, nil, X, 42, \"a\", :string, /re/, {k: X} or [X, ...]");
      return this.at<Params>({ kind: 'args', patterns, rest }, token.start);
    }
    if (this.isPunct(token, '/')) {
      this.take();
      const arity = this.take();
      if (arity.kind !== 'number' || !Number.isInteger(arity.value) || arity.value < 0 || arity.value > MAX_ARITY) {
        throw this.unexpected(arity, `an arity: a whole number from 0 to ${MAX_ARITY}`);
      }
      return this.at<Params>({ kind: 'arity', arity: arity.value }, token.start);
    }
    return null;
  }

  /** `p, p, ...` up to `close` (already past the opening bracket). */
  private list(close: ')' | ']', expected: string): { patterns: ArgPattern[]; rest: boolean } {
    const patterns: ArgPattern[] = [];
    let rest = false;
    if (this.isPunct(this.peek(), close)) {
      this.take();
      return { patterns, rest };
    }
    for (;;) {
      if (this.isPunct(this.peek(), '...')) {
        this.take();
        rest = true;
        this.expectPunct(close, `'${close}' ('...' stands for the rest and comes last)`);
        return { patterns, rest };
      }
      if (patterns.length >= MAX_ARITY) throw this.unexpected(this.peek(), `at most ${MAX_ARITY} patterns`);
      patterns.push(this.argPattern(expected));
      const separator = this.take();
      if (this.isPunct(separator, close)) return { patterns, rest };
      if (!this.isPunct(separator, ',')) throw this.unexpected(separator, `',' or '${close}'`);
    }
  }

  // ---- argument patterns ------------------------------------------------------------

  private argPattern(expected: string): ArgPattern {
    const first = this.peek();
    return this.nested(first, () => {
      const alternatives = [this.singlePattern(expected)];
      while (this.isPunct(this.peek(), '|')) {
        this.take();
        alternatives.push(this.singlePattern(expected));
      }
      if (alternatives.length === 1) return alternatives[0] as ArgPattern;
      return this.at({ kind: 'alt', alternatives }, first.start);
    });
  }

  private singlePattern(expected: string): ArgPattern {
    const token = this.take();
    const start = token.start;
    switch (token.kind) {
      case 'number':
      case 'bigint':
      case 'string':
        return this.at(this.tokenLiteral(token), start);
      case 'regex':
        return this.at({ kind: 'regex', source: token.source, flags: token.flags }, start);
      case 'ident': {
        if (token.value === '_') return this.at({ kind: 'any' }, start);
        const literal = Object.hasOwn(KEYWORD_LITERALS, token.value) ? KEYWORD_LITERALS[token.value] : undefined;
        if (literal !== undefined) return this.at({ ...literal }, start);
        if (RESERVED_WORDS.has(token.value)) {
          throw syntaxError(this.text, start, `${expected}; '${token.value}' is reserved and cannot be bound`, describeToken(token));
        }
        return this.at({ kind: 'bind', name: token.value }, start);
      }
      case 'punct':
        switch (token.value) {
          case '-':
            return this.at(this.negativeLiteral(expected), start);
          case ':':
            return this.at({ kind: 'type', name: this.typeName() }, start);
          case '{':
            return this.at(this.objectPattern(), start);
          case '[': {
            const { patterns, rest } = this.list(']', expected);
            return this.at({ kind: 'array', elements: patterns, rest }, start);
          }
          default:
            break;
        }
        break;
      default:
        break;
    }
    throw this.unexpected(token, expected);
  }

  private typeName(): TypeName {
    const token = this.take();
    if (token.kind !== 'ident') throw this.unexpected(token, `a type name after ':' (${TYPE_NAMES.join(', ')})`);
    if (!TYPE_SET.has(token.value)) {
      throw patternError('LT_PATTERN_UNKNOWN_TYPE', `unknown type ':${token.value}'; types are ${TYPE_NAMES.map((t) => `:${t}`).join(' ')}`, this.text, token.start);
    }
    return token.value as TypeName;
  }

  private objectPattern(): ArgPattern {
    const entries: { key: string; pattern: ArgPattern }[] = [];
    if (this.isPunct(this.peek(), '}')) {
      this.take();
      return { kind: 'object', entries };
    }
    for (;;) {
      const keyToken = this.take();
      let key: string;
      if (keyToken.kind === 'ident' || keyToken.kind === 'string') key = keyToken.value;
      else if (keyToken.kind === 'number' && Number.isInteger(keyToken.value) && keyToken.value >= 0) key = String(keyToken.value);
      else if (this.isPunct(keyToken, '...')) throw this.unexpected(keyToken, "a property name (object patterns are already partial: drop the '...')");
      else throw this.unexpected(keyToken, 'a property name (a name, a quoted string or a whole number)');
      this.expectPunct(':', `':' after the property name ${describeText(key)}`);
      entries.push({ key, pattern: this.argPattern('a pattern for the property value') });
      const separator = this.take();
      if (this.isPunct(separator, '}')) return { kind: 'object', entries };
      if (!this.isPunct(separator, ',')) throw this.unexpected(separator, "',' or '}'");
    }
  }

  /** `-` directly before a number, a bigint or Infinity is part of the literal. */
  private negativeLiteral(expected: string): Literal {
    const token = this.take();
    if (token.kind === 'number') return { kind: 'number', value: -token.value };
    if (token.kind === 'bigint') return { kind: 'bigint', value: (-BigInt(token.value)).toString() };
    if (this.isKeyword(token, 'Infinity')) return { kind: 'number', value: Number.NEGATIVE_INFINITY };
    throw syntaxError(this.text, token.start, `a number after '-' (${expected})`, describeToken(token));
  }

  private tokenLiteral(token: Token & { kind: 'number' | 'bigint' | 'string' }): Literal {
    if (token.kind === 'number') return { kind: 'number', value: token.value };
    if (token.kind === 'bigint') return { kind: 'bigint', value: token.value };
    return { kind: 'string', value: token.value };
  }

  // ---- guard expressions -------------------------------------------------------------

  private expression(): Expr {
    const first = this.peek();
    return this.nested(first, () => this.logical('||', () => this.logical('&&', () => this.equality())));
  }

  private logical(operator: '&&' | '||', operand: () => Expr): Expr {
    let left = operand();
    while (this.isPunct(this.peek(), operator)) {
      const token = this.take();
      left = this.at({ kind: 'logical', operator, left, right: operand() }, token.start);
    }
    return left;
  }

  private binaryLevel(operators: ReadonlySet<string>, operand: () => Expr): Expr {
    let left = operand();
    for (;;) {
      const token = this.peek();
      if (token.kind !== 'punct' || !operators.has(token.value)) return left;
      this.take();
      left = this.at({ kind: 'binary', operator: token.value as BinaryOperator, left, right: operand() }, token.start);
    }
  }

  private equality(): Expr {
    return this.binaryLevel(EQUALITY, () => this.relational());
  }

  private relational(): Expr {
    let left = this.additive();
    for (;;) {
      const token = this.peek();
      if (this.isPunct(token, '~')) {
        this.take();
        const regex = this.take();
        if (regex.kind !== 'regex') throw this.unexpected(regex, "a regular expression such as /^a/i after '~'");
        const node = this.at({ kind: 'regex' as const, source: regex.source, flags: regex.flags }, regex.start);
        left = this.at({ kind: 'match', subject: left, regex: node }, token.start);
      } else if (this.isKeyword(token, 'in') || (token.kind === 'punct' && RELATIONAL.has(token.value))) {
        this.take();
        const operator = (token.kind === 'punct' ? token.value : 'in') as BinaryOperator;
        left = this.at({ kind: 'binary', operator, left, right: this.additive() }, token.start);
      } else {
        return left;
      }
    }
  }

  private additive(): Expr {
    return this.binaryLevel(ADDITIVE, () => this.multiplicative());
  }

  private multiplicative(): Expr {
    return this.binaryLevel(MULTIPLICATIVE, () => this.unary());
  }

  private unary(): Expr {
    const token = this.peek();
    if (this.isPunct(token, '!') || (this.isPunct(token, '-') && !this.startsNegativeLiteral())) {
      this.take();
      const operator = this.isPunct(token, '!') ? '!' : '-';
      return this.nested(token, () => this.at({ kind: 'unary', operator, operand: this.unary() }, token.start));
    }
    return this.postfix();
  }

  private startsNegativeLiteral(): boolean {
    const next = this.peek(1);
    return next.kind === 'number' || next.kind === 'bigint' || this.isKeyword(next, 'Infinity');
  }

  private postfix(): Expr {
    let object = this.primary();
    for (;;) {
      const token = this.peek();
      if (this.isPunct(token, '.')) {
        this.take();
        const name = this.take();
        if (name.kind !== 'ident') throw this.unexpected(name, "a property name after '.'");
        const key = this.at({ kind: 'string' as const, value: name.value }, name.start);
        object = this.at({ kind: 'member', object, key }, token.start);
      } else if (this.isPunct(token, '[')) {
        this.take();
        const key = this.expression();
        this.expectPunct(']', "']'");
        object = this.at({ kind: 'member', object, key }, token.start);
      } else {
        return object;
      }
    }
  }

  private primary(): Expr {
    const token = this.take();
    const start = token.start;
    const expected = 'a value: a name bound in the arguments, args, this, ret, err, threw, ms, a literal or (';
    switch (token.kind) {
      case 'number':
      case 'bigint':
      case 'string':
        return this.at(this.tokenLiteral(token), start);
      case 'ident': {
        const literal = Object.hasOwn(KEYWORD_LITERALS, token.value) ? KEYWORD_LITERALS[token.value] : undefined;
        if (literal !== undefined) return this.at({ ...literal }, start);
        if (CONTEXT_SET.has(token.value)) return this.at({ kind: 'context', name: token.value as ContextName }, start);
        if (OUTCOME_SET.has(token.value)) return this.at({ kind: 'outcome', name: token.value as OutcomeName }, start);
        if (RESERVED_WORDS.has(token.value)) break;
        return this.at({ kind: 'name', name: token.value }, start);
      }
      case 'punct':
        if (token.value === '(') {
          const inner = this.expression();
          this.expectPunct(')', "')'");
          return inner;
        }
        if (token.value === '-') return this.at(this.negativeLiteral(expected), start);
        break;
      default:
        break;
    }
    throw this.unexpected(token, expected);
  }

  // ---- actions -------------------------------------------------------------------------

  private actions(): ActionName[] {
    this.take();
    const actions: ActionName[] = [];
    for (;;) {
      const token = this.take();
      if (token.kind !== 'ident') throw this.unexpected(token, `an action (${ACTION_NAMES.join(', ')})`);
      if (!ACTION_SET.has(token.value)) {
        throw patternError('LT_PATTERN_UNKNOWN_ACTION', `unknown action '${token.value}'; actions are ${ACTION_NAMES.join(', ')}`, this.text, token.start);
      }
      const action = token.value as ActionName;
      if (actions.includes(action)) throw syntaxError(this.text, token.start, 'each action once', describeToken(token));
      actions.push(action);
      if (!this.isPunct(this.peek(), ',')) return actions;
      this.take();
    }
  }
}
