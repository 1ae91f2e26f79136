/**
 * Argument patterns (the `args` to `single` rules of the grammar in parser.ts): `_`,
 * names, literals, `nil`, `:type`, `/regex/`, `{key: pattern}`, `[pattern, ...]` and
 * alternatives joined by `|`.
 */
import { MAX_ARITY, RESERVED_WORDS, TYPE_NAMES, type ArgPattern, type TypeName } from '../ast.js';
import { describeText, patternError, syntaxError } from '../diagnostic.js';
import { describeToken, type Cursor } from './cursor.js';
import { KEYWORD_LITERALS, negativeLiteral, tokenLiteral } from './literals.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

const TYPE_SET: ReadonlySet<string> = new Set(TYPE_NAMES);

/** `p, p, ...` up to `close` (already past the opening bracket). */
export function list(c: Cursor, close: ')' | ']', expected: string): { patterns: ArgPattern[]; rest: boolean } {
  const patterns: ArgPattern[] = [];
  let rest = false;
  if (c.isPunct(c.peek(), close)) {
    c.take();
    return { patterns, rest };
  }
  for (;;) {
    if (c.isPunct(c.peek(), '...')) {
      c.take();
      rest = true;
      c.expectPunct(close, `'${close}' ('...' stands for the rest and comes last)`);
      return { patterns, rest };
    }
    if (patterns.length >= MAX_ARITY) throw c.unexpected(c.peek(), `at most ${MAX_ARITY} patterns`);
    ArrayPrototypePush(patterns, argPattern(c, expected));
    const separator = c.take();
    if (c.isPunct(separator, close)) return { patterns, rest };
    if (!c.isPunct(separator, ',')) throw c.unexpected(separator, `',' or '${close}'`);
  }
}

export function argPattern(c: Cursor, expected: string): ArgPattern {
  const first = c.peek();
  return c.nested(first, () => {
    const alternatives = [singlePattern(c, expected)];
    while (c.isPunct(c.peek(), '|')) {
      c.take();
      ArrayPrototypePush(alternatives, singlePattern(c, expected));
    }
    if (alternatives.length === 1) return alternatives[0] as ArgPattern;
    return c.at({ kind: 'alt', alternatives }, first.start);
  });
}

function singlePattern(c: Cursor, expected: string): ArgPattern {
  const token = c.take();
  const start = token.start;
  switch (token.kind) {
    case 'number':
    case 'bigint':
    case 'string':
      return c.at(tokenLiteral(token), start);
    case 'regex':
      return c.at({ kind: 'regex', source: token.source, flags: token.flags }, start);
    case 'ident': {
      if (token.value === '_') return c.at({ kind: 'any' }, start);
      const literal = Object.hasOwn(KEYWORD_LITERALS, token.value) ? KEYWORD_LITERALS[token.value] : undefined;
      if (literal !== undefined) return c.at({ ...literal }, start);
      if (RESERVED_WORDS.has(token.value)) {
        throw syntaxError(c.text, start, `${expected}; '${token.value}' is reserved and cannot be bound`, describeToken(token));
      }
      return c.at({ kind: 'bind', name: token.value }, start);
    }
    case 'punct':
      switch (token.value) {
        case '-':
          return c.at(negativeLiteral(c, expected), start);
        case ':':
          return c.at({ kind: 'type', name: typeName(c) }, start);
        case '{':
          return c.at(objectPattern(c), start);
        case '[': {
          const { patterns, rest } = list(c, ']', expected);
          return c.at({ kind: 'array', elements: patterns, rest }, start);
        }
        default:
          break;
      }
      break;
    default:
      break;
  }
  throw c.unexpected(token, expected);
}

function typeName(c: Cursor): TypeName {
  const token = c.take();
  if (token.kind !== 'ident') throw c.unexpected(token, `a type name after ':' (${TYPE_NAMES.join(', ')})`);
  if (!TYPE_SET.has(token.value)) {
    throw patternError('LT_PATTERN_UNKNOWN_TYPE', `unknown type ':${token.value}'; types are ${TYPE_NAMES.map((t) => `:${t}`).join(' ')}`, c.text, token.start);
  }
  return token.value as TypeName;
}

function objectPattern(c: Cursor): ArgPattern {
  const entries: { key: string; pattern: ArgPattern }[] = [];
  if (c.isPunct(c.peek(), '}')) {
    c.take();
    return { kind: 'object', entries };
  }
  for (;;) {
    const keyToken = c.take();
    let key: string;
    if (keyToken.kind === 'ident' || keyToken.kind === 'string') key = keyToken.value;
    else if (keyToken.kind === 'number' && Number.isInteger(keyToken.value) && keyToken.value >= 0) key = String(keyToken.value);
    else if (c.isPunct(keyToken, '...')) throw c.unexpected(keyToken, "a property name (object patterns are already partial: drop the '...')");
    else throw c.unexpected(keyToken, 'a property name (a name, a quoted string or a whole number)');
    c.expectPunct(':', `':' after the property name ${describeText(key)}`);
    ArrayPrototypePush(entries, { key, pattern: argPattern(c, 'a pattern for the property value') });
    const separator = c.take();
    if (c.isPunct(separator, '}')) return { kind: 'object', entries };
    if (!c.isPunct(separator, ',')) throw c.unexpected(separator, "',' or '}'");
  }
}
