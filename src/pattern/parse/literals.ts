/** Literals as both argument patterns and guards write them: keywords, numbers, strings. */
import type { Literal } from '../ast.js';
import { syntaxError } from '../diagnostic.js';
import type { Token } from '../lex/tokens.js';
import { describeToken, type Cursor } from './cursor.js';

export const KEYWORD_LITERALS: Readonly<Record<string, Literal>> = {
  true: { kind: 'boolean', value: true },
  false: { kind: 'boolean', value: false },
  null: { kind: 'null' },
  undefined: { kind: 'undefined' },
  nil: { kind: 'nil' },
  NaN: { kind: 'number', value: Number.NaN },
  Infinity: { kind: 'number', value: Number.POSITIVE_INFINITY },
};

/** `-` directly before a number, a bigint or Infinity is part of the literal. */
export function negativeLiteral(c: Cursor, expected: string): Literal {
  const token = c.take();
  if (token.kind === 'number') return { kind: 'number', value: -token.value };
  if (token.kind === 'bigint') return { kind: 'bigint', value: (-BigInt(token.value)).toString() };
  if (c.isKeyword(token, 'Infinity')) return { kind: 'number', value: Number.NEGATIVE_INFINITY };
  throw syntaxError(c.text, token.start, `a number after '-' (${expected})`, describeToken(token));
}

export function tokenLiteral(token: Token & { kind: 'number' | 'bigint' | 'string' }): Literal {
  if (token.kind === 'number') return { kind: 'number', value: token.value };
  if (token.kind === 'bigint') return { kind: 'bigint', value: token.value };
  return { kind: 'string', value: token.value };
}
