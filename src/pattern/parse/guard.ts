/**
 * Guard expressions (the `guard` to `postfix` rules of the grammar in parser.ts), one
 * function per precedence level from `||` down to member access.
 */
import { CONTEXT_NAMES, OUTCOME_NAMES, RESERVED_WORDS, type BinaryOperator, type ContextName, type Expr, type OutcomeName } from '../ast.js';
import type { Cursor } from './cursor.js';
import { KEYWORD_LITERALS, negativeLiteral, tokenLiteral } from './literals.js';

const CONTEXT_SET: ReadonlySet<string> = new Set(CONTEXT_NAMES);
const OUTCOME_SET: ReadonlySet<string> = new Set(OUTCOME_NAMES);
const EQUALITY: ReadonlySet<string> = new Set(['==', '!=']);
const RELATIONAL: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);
const ADDITIVE: ReadonlySet<string> = new Set(['+', '-']);
const MULTIPLICATIVE: ReadonlySet<string> = new Set(['*', '/', '%']);

export function expression(c: Cursor): Expr {
  const first = c.peek();
  return c.nested(first, () => logical(c, '||', () => logical(c, '&&', () => equality(c))));
}

function logical(c: Cursor, operator: '&&' | '||', operand: () => Expr): Expr {
  let left = operand();
  while (c.isPunct(c.peek(), operator)) {
    const token = c.take();
    left = c.at({ kind: 'logical', operator, left, right: operand() }, token.start);
  }
  return left;
}

function binaryLevel(c: Cursor, operators: ReadonlySet<string>, operand: () => Expr): Expr {
  let left = operand();
  for (;;) {
    const token = c.peek();
    if (token.kind !== 'punct' || !operators.has(token.value)) return left;
    c.take();
    left = c.at({ kind: 'binary', operator: token.value as BinaryOperator, left, right: operand() }, token.start);
  }
}

function equality(c: Cursor): Expr {
  return binaryLevel(c, EQUALITY, () => relational(c));
}

function relational(c: Cursor): Expr {
  let left = additive(c);
  for (;;) {
    const token = c.peek();
    if (c.isPunct(token, '~')) {
      c.take();
      const regex = c.take();
      if (regex.kind !== 'regex') throw c.unexpected(regex, "a regular expression such as /^a/i after '~'");
      const node = c.at({ kind: 'regex' as const, source: regex.source, flags: regex.flags }, regex.start);
      left = c.at({ kind: 'match', subject: left, regex: node }, token.start);
    } else if (c.isKeyword(token, 'in') || (token.kind === 'punct' && RELATIONAL.has(token.value))) {
      c.take();
      const operator = (token.kind === 'punct' ? token.value : 'in') as BinaryOperator;
      left = c.at({ kind: 'binary', operator, left, right: additive(c) }, token.start);
    } else {
      return left;
    }
  }
}

function additive(c: Cursor): Expr {
  return binaryLevel(c, ADDITIVE, () => multiplicative(c));
}

function multiplicative(c: Cursor): Expr {
  return binaryLevel(c, MULTIPLICATIVE, () => unary(c));
}

function unary(c: Cursor): Expr {
  const token = c.peek();
  if (c.isPunct(token, '!') || (c.isPunct(token, '-') && !startsNegativeLiteral(c))) {
    c.take();
    const operator = c.isPunct(token, '!') ? '!' : '-';
    return c.nested(token, () => c.at({ kind: 'unary', operator, operand: unary(c) }, token.start));
  }
  return postfix(c);
}

function startsNegativeLiteral(c: Cursor): boolean {
  const next = c.peek(1);
  return next.kind === 'number' || next.kind === 'bigint' || c.isKeyword(next, 'Infinity');
}

function postfix(c: Cursor): Expr {
  let object = primary(c);
  for (;;) {
    const token = c.peek();
    if (c.isPunct(token, '.')) {
      c.take();
      const name = c.take();
      if (name.kind !== 'ident') throw c.unexpected(name, "a property name after '.'");
      const key = c.at({ kind: 'string' as const, value: name.value }, name.start);
      object = c.at({ kind: 'member', object, key }, token.start);
    } else if (c.isPunct(token, '[')) {
      c.take();
      const key = expression(c);
      c.expectPunct(']', "']'");
      object = c.at({ kind: 'member', object, key }, token.start);
    } else {
      return object;
    }
  }
}

function primary(c: Cursor): Expr {
  const token = c.take();
  const start = token.start;
  const expected = 'a value: a name bound in the arguments, args, this, ret, err, threw, ms, a literal or (';
  switch (token.kind) {
    case 'number':
    case 'bigint':
    case 'string':
      return c.at(tokenLiteral(token), start);
    case 'ident': {
      const literal = Object.hasOwn(KEYWORD_LITERALS, token.value) ? KEYWORD_LITERALS[token.value] : undefined;
      if (literal !== undefined) return c.at({ ...literal }, start);
      if (CONTEXT_SET.has(token.value)) return c.at({ kind: 'context', name: token.value as ContextName }, start);
      if (OUTCOME_SET.has(token.value)) return c.at({ kind: 'outcome', name: token.value as OutcomeName }, start);
      if (RESERVED_WORDS.has(token.value)) break;
      return c.at({ kind: 'name', name: token.value }, start);
    }
    case 'punct':
      if (token.value === '(') {
        const inner = expression(c);
        c.expectPunct(')', "')'");
        return inner;
      }
      if (token.value === '-') return c.at(negativeLiteral(c, expected), start);
      break;
    default:
      break;
  }
  throw c.unexpected(token, expected);
}
