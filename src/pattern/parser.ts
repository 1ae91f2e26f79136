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
import { ACTION_NAMES, MAX_ARITY, type ActionName, type Expr, type Params, type PatternAst } from './ast.js';
import { patternError, syntaxError } from './diagnostic.js';
import { checkPattern } from './checks.js';
import { list } from './parse/args.js';
import { Cursor, describeToken } from './parse/cursor.js';
import { expression } from './parse/guard.js';
import { ArrayPrototypePush } from '../safe/intrinsics.js';

/** Parses one pattern; throws a LivetraceError with a LT_PATTERN_* code and never anything else. */
export function parsePattern(text: string): PatternAst {
  if (typeof text !== 'string' || text.trim() === '') {
    throw patternError('LT_PATTERN_EMPTY', 'empty pattern', typeof text === 'string' ? text : '');
  }
  const cursor = new Cursor(text);
  const ast = parse(cursor);
  return checkPattern(ast, text, (node) => (typeof node === 'string' ? cursor.globPositions.get(node) : cursor.positions.get(node)));
}

const ACTION_SET: ReadonlySet<string> = new Set(ACTION_NAMES);

function parse(c: Cursor): PatternAst {
  const module = parseGlob(c, 'module', 'a module glob such as src/users, pg or node:fs');
  c.expectPunct(':', "':' between the module and the function glob");
  const fn = parseGlob(c, 'function', 'a function glob such as findUser, *User or UserRepo#save');
  const params = parseParams(c);
  let guard: Expr | null = null;
  if (c.isKeyword(c.peek(), 'when')) {
    c.take();
    guard = expression(c);
  }
  const actions = c.isPunct(c.peek(), '->') ? parseActions(c) : [];
  const end = c.peek();
  if (end.kind !== 'eof') {
    const expected = [params === null && guard === null ? "'(' or '/'" : '', guard === null ? "'when'" : '', actions.length === 0 ? "'->'" : '']
      .filter(Boolean)
      .concat('end of pattern')
      .join(', ');
    throw c.unexpected(end, expected);
  }
  return { kind: 'pattern', module, function: fn, params, guard, actions };
}

function parseGlob(c: Cursor, kind: 'module' | 'function', expected: string): string {
  const token = c.take();
  if (token.kind !== 'glob') throw c.unexpected(token, expected);
  if (token.value === '') throw syntaxError(c.text, token.start, expected, 'an empty glob');
  c.globPositions.set(kind, token.start);
  return token.value;
}

function parseParams(c: Cursor): Params | null {
  const token = c.peek();
  if (c.isPunct(token, '(')) {
    c.take();
    const { patterns, rest } = list(c, ')', "a pattern such as _, nil, X, 42, \"a\", :string, /re/, {k: X} or [X, ...]");
    return c.at<Params>({ kind: 'args', patterns, rest }, token.start);
  }
  if (c.isPunct(token, '/')) {
    c.take();
    const arity = c.take();
    if (arity.kind !== 'number' || !Number.isInteger(arity.value) || arity.value < 0 || arity.value > MAX_ARITY) {
      throw c.unexpected(arity, `an arity: a whole number from 0 to ${MAX_ARITY}`);
    }
    return c.at<Params>({ kind: 'arity', arity: arity.value }, token.start);
  }
  return null;
}

function parseActions(c: Cursor): ActionName[] {
  c.take();
  const actions: ActionName[] = [];
  for (;;) {
    const token = c.take();
    if (token.kind !== 'ident') throw c.unexpected(token, `an action (${ACTION_NAMES.join(', ')})`);
    if (!ACTION_SET.has(token.value)) {
      throw patternError('LT_PATTERN_UNKNOWN_ACTION', `unknown action '${token.value}'; actions are ${ACTION_NAMES.join(', ')}`, c.text, token.start);
    }
    const action = token.value as ActionName;
    if (actions.includes(action)) throw syntaxError(c.text, token.start, 'each action once', describeToken(token));
    ArrayPrototypePush(actions, action);
    if (!c.isPunct(c.peek(), ',')) return actions;
    c.take();
  }
}
