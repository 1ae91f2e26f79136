import { describe, expect, it } from 'vitest';
import type { Expr, PatternAst } from '../../../src/pattern/ast.js';
import { checkPattern, parsePattern, printPattern } from '../../../src/pattern/index.js';
import { printExpr, quoteString } from '../../../src/pattern/printer.js';

const ROUND_TRIPS = [
  'src/users:findUser',
  'node:fs:readFile/2',
  'node:readFile',
  'src/**/repo*:UserRepo#save({id: X}, ...) -> stack, this',
  'pg:*Query(sql, [a, b, ...], {"content-type": /json/i, 0: nil}) when sql ~ /^select/ && ms > 100 -> hist',
  'm:f(-1, -0, 1.5e-7, 1e+21, NaN, Infinity, -Infinity, 10n, -10n, "a\\"b", true, false, null, undefined)',
  'm:f(:string | :number | nil, _, ...)',
  'm:f(X, X) when -X > -(1) && !(X == 2 || X != 3) && X * (2 + 3) % 4 / 5 - 6 >= 7',
  'm:f(x) when (x.a + 1).b && x["a b"][0] && (-1).x && "k" in x && x in args',
  'm:f(a, b, c, d, e) when a && (b && c) || (d || e)',
  "'my dir/x':'weird fn'(x)",
  'm:f(x) when x - -1 == x + 1 && -(-1) == 1',
  '*:* when threw',
];

describe('printer', () => {
  it('prints every parsed pattern so that it parses back to the same tree', () => {
    for (const text of ROUND_TRIPS) {
      const ast = parsePattern(text);
      const printed = printPattern(ast);
      expect(parsePattern(printed), `${text} -> ${printed}`).toEqual(ast);
      expect(printPattern(parsePattern(printed))).toBe(printed);
    }
  });

  it('has one canonical spelling', () => {
    expect(printPattern(parsePattern("  m : f ( 'a' ,X,... )when(X>1)->stack,count"))).toBe('m:f("a", X, ...) when X > 1 -> stack, count');
    expect(printPattern(parsePattern('m:f(x) when x["k"] && x.k'))).toBe('m:f(x) when x.k && x.k');
    expect(printPattern(parsePattern('m:f(x) when ((x + 1)) * 2'))).toBe('m:f(x) when (x + 1) * 2');
    expect(printPattern(parsePattern('m:f({0: 1})'))).toBe('m:f({"0": 1})');
    expect(printPattern(parsePattern('m:f(- 1, -0, 1e21, 0.000001)'))).toBe('m:f(-1, -0, 1e+21, 0.000001)');
  });

  it('parenthesizes only where precedence needs it, including right-nested chains', () => {
    const name = (n: string): Expr => ({ kind: 'name', name: n });
    const sub = (left: Expr, right: Expr): Expr => ({ kind: 'binary', operator: '-', left, right });
    expect(printExpr(sub(name('a'), sub(name('b'), name('c'))))).toBe('a - (b - c)');
    expect(printExpr(sub(sub(name('a'), name('b')), name('c')))).toBe('a - b - c');
    expect(printExpr({ kind: 'unary', operator: '-', operand: { kind: 'number', value: 1 } })).toBe('-(1)');
    expect(printExpr({ kind: 'unary', operator: '-', operand: { kind: 'number', value: -1 } })).toBe('-(-1)');
    expect(printExpr({ kind: 'member', object: { kind: 'number', value: -1 }, key: { kind: 'string', value: 'x' } })).toBe('(-1).x');
    expect(printExpr({ kind: 'unary', operator: '!', operand: { kind: 'logical', operator: '&&', left: name('a'), right: name('b') } })).toBe('!(a && b)');
  });

  it('escapes everything that could break a line, a terminal or a re-read', () => {
    expect(quoteString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quoteString("it's", "'")).toBe("'it\\'s'");
    expect(quoteString('\n\r\t\b\f\v\0\x7f\u0085\u2028\u2029\ufeff')).toBe('"\\n\\r\\t\\b\\f\\v\\u0000\\u007f\\u0085\\u2028\\u2029\\ufeff"');
    expect(quoteString('\ud800x\udc00')).toBe('"\\ud800x\\udc00"');
    expect(quoteString('😀 ${x} */')).toBe('"😀 ${x} */"');
  });

  it('quotes globs a bare glob cannot hold', () => {
    const ast = (module: string, fn: string): PatternAst => checkPattern({ kind: 'pattern', module, function: fn, params: null, guard: null, actions: [] });
    expect(printPattern(ast('node:fs', 'readFile'))).toBe('node:fs:readFile');
    expect(printPattern(ast('a:b', 'c'))).toBe('"a:b":c');
    expect(printPattern(ast('src/x', 'a/b'))).toBe('src/x:"a/b"');
    expect(printPattern(ast('node:', 'x'))).toBe('"node:":x');
    expect(printPattern(ast('with space', 'f(x)'))).toBe('"with space":"f(x)"');
    for (const [module, fn] of [['a:b', 'c'], ['node:', 'x'], ['with space', 'f(x)'], ['src/x', 'a/b']] as const) {
      expect(parsePattern(printPattern(ast(module, fn)))).toEqual(ast(module, fn));
    }
  });
});
