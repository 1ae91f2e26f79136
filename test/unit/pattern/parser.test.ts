import { describe, expect, it } from 'vitest';
import type { LivetraceError } from '../../../src/protocol/errors.js';
import type { ArgPattern, Expr, PatternAst } from '../../../src/pattern/ast.js';
import { MAX_DEPTH, TYPE_NAMES } from '../../../src/pattern/ast.js';
import { parsePattern } from '../../../src/pattern/index.js';
import { thrown } from './thrown.js';

function parseError(text: string): LivetraceError {
  return thrown(() => parsePattern(text));
}

function args(text: string): ArgPattern[] {
  const ast = parsePattern(text);
  if (ast.params?.kind !== 'args') throw new Error('no argument list');
  return ast.params.patterns;
}

function guard(text: string): Expr {
  const ast = parsePattern(`m:f(a, b, c, d, e) when ${text}`);
  if (ast.guard === null) throw new Error('no guard');
  return ast.guard;
}

/** An expression as a fully parenthesized prefix form, to check precedence and associativity. */
function shape(expr: Expr): string {
  switch (expr.kind) {
    case 'name':
    case 'context':
    case 'outcome':
      return expr.name;
    case 'number':
    case 'boolean':
      return String(expr.value);
    case 'string':
      return JSON.stringify(expr.value);
    case 'bigint':
      return `${expr.value}n`;
    case 'member':
      return `(. ${shape(expr.object)} ${shape(expr.key)})`;
    case 'unary':
      return `(${expr.operator} ${shape(expr.operand)})`;
    case 'binary':
    case 'logical':
      return `(${expr.operator} ${shape(expr.left)} ${shape(expr.right)})`;
    case 'match':
      return `(~ ${shape(expr.subject)} /${expr.regex.source}/${expr.regex.flags})`;
    default:
      return expr.kind;
  }
}

describe('parser: the head', () => {
  it('parses module and function globs into a pattern tree', () => {
    expect(parsePattern('src/users:findUser')).toEqual<PatternAst>({
      kind: 'pattern',
      module: 'src/users',
      function: 'findUser',
      params: null,
      guard: null,
      actions: [],
    });
    expect(parsePattern('node:fs:readFile')).toMatchObject({ module: 'node:fs', function: 'readFile' });
    expect(parsePattern('* :*')).toMatchObject({ module: '*', function: '*' });
    expect(parsePattern("'my dir/x':'weird fn'")).toMatchObject({ module: 'my dir/x', function: 'weird fn' });
    for (const fn of ['*User', 'db.users.find', 'UserRepo#save', 'UserRepo.create', 'default', '{a,b}']) {
      expect(parsePattern(`m:${fn}`).function).toBe(fn);
    }
  });

  it('parses an arity', () => {
    expect(parsePattern('m:f/2').params).toEqual({ kind: 'arity', arity: 2 });
    expect(parsePattern('m:f / 0').params).toEqual({ kind: 'arity', arity: 0 });
    const error = parseError('m:f/1.5');
    expect(error.column).toBe(5);
    expect(error.expected).toContain('whole number');
    expect(parseError('m:f/70000').code).toBe('LT_PATTERN_SYNTAX');
  });

  it('parses actions', () => {
    expect(parsePattern('m:f -> stack, this, count, hist').actions).toEqual(['stack', 'this', 'count', 'hist']);
    expect(parsePattern('m:f(x) when x -> hist').actions).toEqual(['hist']);
    expect(parseError('m:f -> stack, stack').column).toBe(15);
  });
});

describe('parser: argument patterns', () => {
  it('parses _, ..., names and nil', () => {
    expect(parsePattern('m:f()').params).toEqual({ kind: 'args', patterns: [], rest: false });
    expect(parsePattern('m:f(...)').params).toEqual({ kind: 'args', patterns: [], rest: true });
    expect(parsePattern('m:f(_, X, nil, ...)').params).toEqual({
      kind: 'args',
      patterns: [{ kind: 'any' }, { kind: 'bind', name: 'X' }, { kind: 'nil' }],
      rest: true,
    });
  });

  it('parses every literal', () => {
    expect(args(`m:f(42, -7, 1.5, -0, 10n, -10n, 'a\\'b', "c\\n", true, false, null, undefined, NaN, Infinity, -Infinity)`)).toEqual([
      { kind: 'number', value: 42 },
      { kind: 'number', value: -7 },
      { kind: 'number', value: 1.5 },
      { kind: 'number', value: -0 },
      { kind: 'bigint', value: '10' },
      { kind: 'bigint', value: '-10' },
      { kind: 'string', value: "a'b" },
      { kind: 'string', value: 'c\n' },
      { kind: 'boolean', value: true },
      { kind: 'boolean', value: false },
      { kind: 'null' },
      { kind: 'undefined' },
      { kind: 'number', value: Number.NaN },
      { kind: 'number', value: Number.POSITIVE_INFINITY },
      { kind: 'number', value: Number.NEGATIVE_INFINITY },
    ]);
    expect(args('m:f(-0n)')).toEqual([{ kind: 'bigint', value: '0' }]);
  });

  it('parses type tests and regexes', () => {
    const types = TYPE_NAMES.map((type) => `:${type}`).join(', ');
    expect(types).toBe(':string, :number, :bigint, :boolean, :symbol, :function, :object, :array, :promise, :error');
    expect(args(`m:f(${types})`)).toEqual(TYPE_NAMES.map((name) => ({ kind: 'type', name })));
    expect(args('m:f(/^a.b$/iu)')).toEqual([{ kind: 'regex', source: '^a.b$', flags: 'iu' }]);
  });

  it('parses nested object patterns with quoted and numeric keys', () => {
    expect(args(`m:f({id: X, 'a b': {c: [_, ...]}, 0: nil, if: 1}, {})`)).toEqual([
      {
        kind: 'object',
        entries: [
          { key: 'id', pattern: { kind: 'bind', name: 'X' } },
          { key: 'a b', pattern: { kind: 'object', entries: [{ key: 'c', pattern: { kind: 'array', elements: [{ kind: 'any' }], rest: true } }] } },
          { key: '0', pattern: { kind: 'nil' } },
          { key: 'if', pattern: { kind: 'number', value: 1 } },
        ],
      },
      { kind: 'object', entries: [] },
    ]);
  });

  it('parses array patterns and alternatives, flattening a | b | c', () => {
    expect(args('m:f([], [X, Y], [...], :string | :number | nil)')).toEqual([
      { kind: 'array', elements: [], rest: false },
      { kind: 'array', elements: [{ kind: 'bind', name: 'X' }, { kind: 'bind', name: 'Y' }], rest: false },
      { kind: 'array', elements: [], rest: true },
      { kind: 'alt', alternatives: [{ kind: 'type', name: 'string' }, { kind: 'type', name: 'number' }, { kind: 'nil' }] },
    ]);
    expect(args('m:f({k: 1 | 2})')).toEqual([
      { kind: 'object', entries: [{ key: 'k', pattern: { kind: 'alt', alternatives: [{ kind: 'number', value: 1 }, { kind: 'number', value: 2 }] } }] },
    ]);
  });

  it('refuses reserved words as names', () => {
    for (const word of ['ret', 'err', 'threw', 'ms', 'args', 'this', 'when', 'in']) {
      const error = parseError(`m:f(${word})`);
      expect(error.code).toBe('LT_PATTERN_SYNTAX');
      expect(error.column).toBe(5);
      expect(error.expected).toContain('reserved');
    }
  });

  it("says '...' must come last", () => {
    const error = parseError('m:f(..., x)');
    expect(error.column).toBe(8);
    expect(error.expected).toContain('comes last');
  });
});

describe('parser: guards', () => {
  it('follows JavaScript precedence and left associativity', () => {
    const cases: Array<[string, string]> = [
      ['a + b * c', '(+ a (* b c))'],
      ['a * b + c', '(+ (* a b) c)'],
      ['a - b - c', '(- (- a b) c)'],
      ['a / b % c', '(% (/ a b) c)'],
      ['a < b == c > d', '(== (< a b) (> c d))'],
      ['a == b && c != d || e', '(|| (&& (== a b) (!= c d)) e)'],
      ['a || b && c', '(|| a (&& b c))'],
      ['!a && b', '(&& (! a) b)'],
      ['!(a && b)', '(! (&& a b))'],
      ['-a * b', '(* (- a) b)'],
      ['a + -1', '(+ a -1)'],
      ['a - -b', '(- a (- b))'],
      ['-(1)', '(- 1)'],
      ['- 1', '-1'],
      ['a.b.c[0]["d"]', '(. (. (. (. a "b") "c") 0) "d")'],
      ['a[b + 1].length', '(. (. a (+ b 1)) "length")'],
      ['"k" in a && a.k >= 2', '(&& (in "k" a) (>= (. a "k") 2))'],
      ['a ~ /x/i && b', '(&& (~ a /x/i) b)'],
      ['a + b ~ /x/', '(~ (+ a b) /x/)'],
      ['(a || b) && c', '(&& (|| a b) c)'],
      ['a && (b && c)', '(&& a (&& b c))'],
      ['args[0] == this.id', '(== (. args 0) (. this "id"))'],
      ['ret.ok && !threw && err == nil && ms > 1', '(&& (&& (&& (. ret "ok") (! threw)) (== err nil)) (> ms 1))'],
      ['a <= b >= c', '(>= (<= a b) c)'],
      ['1n + -2n', '(+ 1n -2n)'],
    ];
    for (const [text, expected] of cases) expect(shape(guard(text)), text).toBe(expected);
  });

  it('parses keyword literals in guards', () => {
    expect(guard('a == null || a == undefined || a == nil || a == NaN || a == true')).toMatchObject({ kind: 'logical' });
    expect(shape(guard('-Infinity < a'))).toBe('(< -Infinity a)');
  });

  it('wants a regex after ~', () => {
    const error = parseError('m:f(a) when a ~ "x"');
    expect(error.column).toBe(17);
    expect(error.expected).toContain('regular expression');
  });
});

describe('parser: errors carry code, column, expected and found', () => {
  it('LT_PATTERN_EMPTY', () => {
    expect(parseError('').code).toBe('LT_PATTERN_EMPTY');
    expect(parseError('   ').code).toBe('LT_PATTERN_EMPTY');
  });

  it('LT_PATTERN_SYNTAX with the column and both sides named in the message', () => {
    const cases: Array<[string, number, string, string]> = [
      ['src/users', 10, "':' between the module and the function glob", 'end of pattern'],
      [':f', 1, 'a module glob', "':'"],
      ['m:', 3, 'a function glob', 'end of pattern'],
      ['m:f(', 5, 'a pattern', 'end of pattern'],
      ['m:f(x', 6, "',' or ')'", 'end of pattern'],
      ['m:f(x y)', 7, "',' or ')'", "'y'"],
      ['m:f(x) y', 8, "'when'", "'y'"],
      ['m:f(x) when', 12, 'a value', 'end of pattern'],
      ['m:f(x) when x >', 16, 'a value', 'end of pattern'],
      ['m:f(x) when (x', 15, "')'", 'end of pattern'],
      ['m:f(x) when x.', 15, 'a property name', 'end of pattern'],
      ['m:f -> ', 8, 'an action', 'end of pattern'],
      ['m:f({id X})', 9, "':' after the property name", "'X'"],
      ['m:f({id: X)', 11, "',' or '}'", "')'"],
      ['m:f({id: X, ...})', 13, 'already partial', "'...'"],
      ['m:f(@)', 5, 'a pattern', "'@'"],
      ['m:f(-x)', 6, 'a number', "'x'"],
      ['m:f(:1)', 6, 'a type name', "the number '1'"],
      ['m:f(x) when _', 13, 'a value', "'_'"],
      ['m:f/x', 5, 'an arity', "'x'"],
    ];
    for (const [text, column, expected, found] of cases) {
      const error = parseError(text);
      expect(error.code, text).toBe('LT_PATTERN_SYNTAX');
      expect(error.column, text).toBe(column);
      expect(error.expected, text).toContain(expected);
      expect(error.found, text).toBe(found);
      expect(error.input).toBe(text);
      expect(error.message).toContain(`column ${column}`);
      expect(error.message).toContain(error.expected);
      expect(error.message).toContain(found);
    }
  });

  it('LT_PATTERN_UNKNOWN_TYPE at the type name', () => {
    const error = parseError('m:f(_, :strng)');
    expect(error.code).toBe('LT_PATTERN_UNKNOWN_TYPE');
    expect(error.column).toBe(9);
    expect(error.message).toContain(':strng');
  });

  it('LT_PATTERN_UNKNOWN_ACTION at the action', () => {
    const error = parseError('m:f -> stack, trace');
    expect(error.code).toBe('LT_PATTERN_UNKNOWN_ACTION');
    expect(error.column).toBe(15);
  });

  it('LT_PATTERN_UNBOUND_NAME at the name, also for names bound in only some alternatives', () => {
    const unbound = parseError('m:f(x) when x > 1 && y');
    expect(unbound.code).toBe('LT_PATTERN_UNBOUND_NAME');
    expect(unbound.column).toBe(22);
    expect(parseError('m:f/1 when x').code).toBe('LT_PATTERN_UNBOUND_NAME');
    const partial = parseError('m:f({id: X} | nil) when X');
    expect(partial.code).toBe('LT_PATTERN_UNBOUND_NAME');
    expect(partial.message).toContain('only some alternatives');
    expect(parsePattern('m:f({id: X} | [X]) when X').guard).toEqual({ kind: 'name', name: 'X' });
  });

  it('LT_PATTERN_BAD_REGEX at the regex, for bad sources and for stateful or unknown flags', () => {
    const group = parseError('m:f(_, /(/)');
    expect(group.code).toBe('LT_PATTERN_BAD_REGEX');
    expect(group.column).toBe(8);
    for (const flags of ['g', 'y', 'ii', 'x']) expect(parseError(`m:f(/a/${flags})`).code).toBe('LT_PATTERN_BAD_REGEX');
    expect(parseError('m:f(a) when a ~ /[/').code).toBe('LT_PATTERN_SYNTAX');
    const inGuard = parseError('m:f(a) when a ~ /a{2,1}/');
    expect(inGuard.code).toBe('LT_PATTERN_BAD_REGEX');
    expect(inGuard.column).toBe(17);
  });

  it('an invalid glob is a syntax error at the glob', () => {
    const error = parseError(`m:${'x'.repeat(70_000)}`);
    expect(error.code).toBe('LT_PATTERN_SYNTAX');
    expect(error.column).toBe(3);
  });

  it('bounds nesting instead of overflowing the stack', () => {
    const deepParens = `m:f(x) when ${'('.repeat(MAX_DEPTH + 5)}x${')'.repeat(MAX_DEPTH + 5)}`;
    expect(parseError(deepParens).code).toBe('LT_PATTERN_SYNTAX');
    expect(parseError(`m:f(${'['.repeat(5000)})`).code).toBe('LT_PATTERN_SYNTAX');
    expect(parseError(`m:f(x) when ${'!'.repeat(100_000)}x`).code).toBe('LT_PATTERN_SYNTAX');
    const longChain = parseError(`m:f(x) when x${' + 1'.repeat(MAX_DEPTH + 10)}`);
    expect(longChain.code).toBe('LT_PATTERN_SYNTAX');
    expect(longChain.message).toContain('deeper');
    expect(parsePattern(`m:f(x) when ${'('.repeat(50)}x${')'.repeat(50)}`).guard).toEqual({ kind: 'name', name: 'x' });
  });
});
