import { describe, expect, it } from 'vitest';
import { LivetraceError } from '../../../../src/protocol/errors.js';
import { compilePattern, compilePatterns, parsePattern, type CompiledMatcher, type ModuleRef, type Outcome } from '../../../../src/pattern/index.js';

/** Whether the pre-call part accepts a call with these arguments. */
function accepts(pattern: string | CompiledMatcher, ...args: unknown[]): boolean {
  const matcher = typeof pattern === 'string' ? compilePattern(pattern) : pattern;
  return matcher.pre(undefined, args) !== undefined;
}

const RETURNED: Outcome = { ret: undefined, err: undefined, threw: false, ms: 0 };

/** Whether the whole pattern (pre and post) accepts a call with this receiver, arguments and outcome. */
function matches(pattern: string, self: unknown, args: unknown[], outcome: Partial<Outcome> = {}): boolean {
  const matcher = compilePattern(pattern);
  const bindings = matcher.pre(self, args);
  if (bindings === undefined) return false;
  return matcher.post === undefined || matcher.post(bindings, { ...RETURNED, ...outcome });
}

const app = (id: string): ModuleRef => ({ id, kind: 'app' });
const pkg = (id: string, packageName: string, packageEntry = false): ModuleRef => ({ id, kind: 'package', packageName, packageEntry });
const builtin = (id: string): ModuleRef => ({ id, kind: 'builtin' });

describe('module globs', () => {
  const moduleMatches = (glob: string, module: ModuleRef): boolean => compilePattern(`${JSON.stringify(glob)}:f`).matchModule(module);

  it('a glob with a slash matches the path from the app root, extension optional', () => {
    for (const id of ['src/users.js', 'src/users.ts', 'src/users.mjs', 'src/users.cjs', 'src/users.mts', 'src/users/index.js']) {
      expect(moduleMatches('src/users', app(id)), id).toBe(true);
    }
    expect(moduleMatches('src/users', app('src/users2.js'))).toBe(false);
    expect(moduleMatches('src/users', app('lib/src/users.js'))).toBe(false);
    expect(moduleMatches('src/users.js', app('src/users.js'))).toBe(true);
    expect(moduleMatches('./src/users', app('src/users.js'))).toBe(true);
    expect(moduleMatches('src/**/repo*', app('src/a/b/repository.ts'))).toBe(true);
    expect(moduleMatches('src/**/repo*', app('src/repo.ts'))).toBe(true);
    expect(moduleMatches('src/*', app('src/a/b.js'))).toBe(false);
  });

  it('a glob with a slash also matches paths inside packages and builtin subpaths', () => {
    expect(moduleMatches('express/lib/router/*', pkg('express/lib/router/index.js', 'express'))).toBe(true);
    expect(moduleMatches('express/lib/router', pkg('express/lib/router/index.js', 'express'))).toBe(true);
    expect(moduleMatches('@scope/name', pkg('@scope/name/dist/index.js', '@scope/name', true))).toBe(true);
    expect(moduleMatches('fs/promises', builtin('node:fs/promises'))).toBe(true);
  });

  it('a bare word matches a package entry, a builtin, or an app module by file name', () => {
    expect(moduleMatches('pg', pkg('pg/lib/index.js', 'pg', true))).toBe(true);
    expect(moduleMatches('pg', pkg('pg/lib/client.js', 'pg', false))).toBe(false);
    expect(moduleMatches('client', pkg('pg/lib/client.js', 'pg', false))).toBe(false);
    expect(moduleMatches('fs', builtin('node:fs'))).toBe(true);
    expect(moduleMatches('node:fs', builtin('node:fs'))).toBe(true);
    expect(moduleMatches('fs', builtin('node:fsx'))).toBe(false);
    expect(moduleMatches('users', app('src/users.ts'))).toBe(true);
    expect(moduleMatches('users', app('src/users/index.js'))).toBe(true);
    expect(moduleMatches('user*', app('src/deep/users.js'))).toBe(true);
    expect(moduleMatches('src', app('src/users.js'))).toBe(false);
  });

  it("'**' matches every module and '*' every name", () => {
    for (const module of [app('a/b/c.js'), pkg('x/y.js', 'x'), builtin('node:fs')]) expect(moduleMatches('**', module)).toBe(true);
    expect(moduleMatches('*', app('a/b/c.js'))).toBe(true);
    expect(moduleMatches('*', pkg('x/y.js', 'x'))).toBe(false);
  });
});

describe('function globs', () => {
  const fnMatches = (glob: string, path: string): boolean => compilePattern(`m:${JSON.stringify(glob)}`).matchFunction(path);

  it("'*' stays within a segment between '.' and '#', '**' crosses them", () => {
    expect(fnMatches('*User', 'findUser')).toBe(true);
    expect(fnMatches('*', 'findUser')).toBe(true);
    expect(fnMatches('*', 'db.users.find')).toBe(false);
    expect(fnMatches('*', 'UserRepo#save')).toBe(false);
    expect(fnMatches('UserRepo#*', 'UserRepo#save')).toBe(true);
    expect(fnMatches('UserRepo#*', 'UserRepo.create')).toBe(false);
    expect(fnMatches('UserRepo.*', 'UserRepo.create')).toBe(true);
    expect(fnMatches('UserRepo.*', 'UserRepo#save')).toBe(false);
    expect(fnMatches('*#save', 'UserRepo#save')).toBe(true);
    expect(fnMatches('db.*', 'db.users.find')).toBe(false);
    expect(fnMatches('db.**', 'db.users.find')).toBe(true);
    expect(fnMatches('**.find', 'db.users.find')).toBe(true);
    expect(fnMatches('**', 'UserRepo#save')).toBe(true);
    expect(fnMatches('default', 'default')).toBe(true);
    expect(fnMatches('{findUser,createUser}', 'createUser')).toBe(true);
    expect(fnMatches('find?ser', 'findUser')).toBe(true);
  });

  it("internal functions ('~' paths) are matched only by globs that start with '~'", () => {
    expect(fnMatches('~hash*', '~hashPassword')).toBe(true);
    expect(fnMatches('~makeRouter.*', '~makeRouter.handle')).toBe(true);
    expect(fnMatches('~makeRouter.*', '~makeRouter.a.b')).toBe(false);
    expect(fnMatches('~@12', '~@12')).toBe(true);
    expect(fnMatches('~**', '~UserRepo#save')).toBe(true);
    expect(fnMatches('*', '~slug')).toBe(false);
    expect(fnMatches('**', '~slug')).toBe(false);
    expect(fnMatches('~*', 'slug')).toBe(false);
  });
});

describe('arguments', () => {
  it('(p1..pn) takes at most n arguments, a missing one being undefined; ... allows more; /n is exact', () => {
    expect(accepts('m:f(nil)')).toBe(true);
    expect(accepts('m:f(nil)', null)).toBe(true);
    expect(accepts('m:f(nil)', null, 1)).toBe(false);
    expect(accepts('m:f(nil, ...)', null, 1, 2)).toBe(true);
    expect(accepts('m:f(_, _)')).toBe(true);
    expect(accepts('m:f()', 1)).toBe(false);
    expect(accepts('m:f()')).toBe(true);
    expect(accepts('m:f(...)', 1, 2, 3)).toBe(true);
    expect(accepts('m:f/2', 1, 2)).toBe(true);
    expect(accepts('m:f/2', 1)).toBe(false);
    expect(accepts('m:f/2', 1, 2, 3)).toBe(false);
    expect(accepts('m:f', 1, 2, 3)).toBe(true);
  });

  it('literals compare by SameValueZero and type', () => {
    expect(accepts('m:f(1)', 1)).toBe(true);
    expect(accepts('m:f(1)', '1')).toBe(false);
    expect(accepts('m:f(0)', -0)).toBe(true);
    expect(accepts('m:f(NaN)', Number.NaN)).toBe(true);
    expect(accepts('m:f(NaN)', 'NaN')).toBe(false);
    expect(accepts('m:f(10n)', 10n)).toBe(true);
    expect(accepts('m:f(10n)', 10)).toBe(false);
    expect(accepts('m:f(-Infinity)', Number.NEGATIVE_INFINITY)).toBe(true);
    expect(accepts('m:f("a")', 'a')).toBe(true);
    expect(accepts('m:f(true)', 1)).toBe(false);
    expect(accepts('m:f(null)', undefined)).toBe(false);
    expect(accepts('m:f(undefined)', null)).toBe(false);
    expect(accepts('m:f(nil)', undefined)).toBe(true);
    expect(accepts('m:f(nil)', 0)).toBe(false);
  });

  it('type tests', () => {
    const cases: Array<[string, unknown, boolean]> = [
      [':string', 's', true],
      [':string', new String('s'), false],
      [':number', Number.NaN, true],
      [':bigint', 1n, true],
      [':boolean', false, true],
      [':symbol', Symbol('x'), true],
      [':function', class {}, true],
      [':object', [], true],
      [':object', null, false],
      [':object', () => 1, false],
      [':array', [1], true],
      [':array', { length: 0 }, false],
      [':promise', Promise.resolve(), true],
      [':promise', { then() {} }, false],
      [':error', new TypeError('x'), true],
      [':error', Object.create(Error.prototype), true],
      [':error', { message: 'x' }, false],
    ];
    for (const [type, value, expected] of cases) expect(accepts(`m:f(${type})`, value), `${type} ${String(value)}`).toBe(expected);
  });

  it('regexes match strings only', () => {
    expect(accepts('m:f(/^a/i)', 'Abc')).toBe(true);
    expect(accepts('m:f(/^a/i)', 'bcd')).toBe(false);
    expect(accepts('m:f(/1/)', 1)).toBe(false);
    const matcher = compilePattern('m:f(/a/)');
    expect([accepts(matcher, 'a'), accepts(matcher, 'a'), accepts(matcher, 'a')]).toEqual([true, true, true]);
  });

  it('object patterns are partial, nested, and read missing keys as undefined', () => {
    expect(accepts('m:f({id: 1})', { id: 1, name: 'x' })).toBe(true);
    expect(accepts('m:f({id: 1})', { id: 2 })).toBe(false);
    expect(accepts('m:f({id: nil})', {})).toBe(true);
    expect(accepts('m:f({a: {b: [_, 2]}})', { a: { b: [1, 2] } })).toBe(true);
    expect(accepts('m:f({"a b": 1, 0: 2})', { 'a b': 1, 0: 2 })).toBe(true);
    expect(accepts('m:f({})', 'str')).toBe(false);
    expect(accepts('m:f({name: "f"})', function f() {})).toBe(true);
    expect(accepts('m:f({id: 1})', Object.assign(Object.create({ id: 1 }), {}))).toBe(true);
  });

  it('array patterns have an exact length unless they end with ...', () => {
    expect(accepts('m:f([1, 2])', [1, 2])).toBe(true);
    expect(accepts('m:f([1, 2])', [1, 2, 3])).toBe(false);
    expect(accepts('m:f([1, ...])', [1, 2, 3])).toBe(true);
    expect(accepts('m:f([1, ...])', [])).toBe(false);
    expect(accepts('m:f([])', [])).toBe(true);
    expect(accepts('m:f([nil])', [undefined])).toBe(true);
    // eslint-disable-next-line no-sparse-arrays
    expect(accepts('m:f([nil, 1])', [, 1])).toBe(true);
    expect(accepts('m:f([_])', { 0: 1, length: 1 })).toBe(false);
  });

  it('a repeated name means equal values, nil equal to nil', () => {
    expect(accepts('m:f(X, X)', 1, 1)).toBe(true);
    expect(accepts('m:f(X, X)', 1, 2)).toBe(false);
    expect(accepts('m:f(X, X)', Number.NaN, Number.NaN)).toBe(true);
    expect(accepts('m:f(X, X)', null, undefined)).toBe(true);
    expect(accepts('m:f(X, X)', {}, {})).toBe(false);
    expect(accepts('m:f({id: X}, [X, ...])', { id: 'a' }, ['a', 'b'])).toBe(true);
    expect(accepts('m:f({id: X}, [X, ...])', { id: 'a' }, ['b'])).toBe(false);
  });

  it('alternatives try each branch and undo the bindings of a failed one', () => {
    expect(accepts('m:f(:string | :number)', 1)).toBe(true);
    expect(accepts('m:f(:string | :number)', true)).toBe(false);
    // For [5, 1]: the first branch binds X = 5, then fails on 2; the second binds X = 1.
    const matcher = compilePattern('m:f([X, 2] | [_, X], X) when X == 1');
    expect(accepts(matcher, [5, 1], 1)).toBe(true);
    expect(accepts(matcher, [1, 3], 1)).toBe(false);
    expect(accepts(matcher, [1, 2], 1)).toBe(true);
    expect(accepts('m:f({kind: "a", v: X} | {kind: "b", w: X}) when X > 1', { kind: 'b', w: 2 })).toBe(true);
    // The first alternative that matches is the one used: the guard does not send the matcher back to try another.
    expect(accepts('m:f({a: X} | {b: X}) when X > 1', { b: 2 })).toBe(false);
  });

  it('nothing stays bound between calls', () => {
    const matcher = compilePattern('m:f(X, X)');
    expect(accepts(matcher, 1, 1)).toBe(true);
    expect(accepts(matcher, 2, 2)).toBe(true);
    expect(accepts(matcher, 3, 4)).toBe(false);
    expect(accepts(matcher, 5, 5)).toBe(true);
  });
});

describe('guards', () => {
  const guard = (expression: string, ...args: unknown[]): boolean => accepts(`m:f(a, b, ...) when ${expression}`, ...args);

  it('== and != are strict (SameValueZero) except that nil equals null and undefined', () => {
    expect(guard('a == 1', 1)).toBe(true);
    expect(guard('a == 1', '1')).toBe(false);
    expect(guard('a == nil', null)).toBe(true);
    expect(guard('a == nil', undefined)).toBe(true);
    expect(guard('a == nil', 0)).toBe(false);
    expect(guard('a == null', undefined)).toBe(true);
    expect(guard('a != nil', 0)).toBe(true);
    expect(guard('a == b', Number.NaN, Number.NaN)).toBe(true);
    expect(guard('a == b', {}, {})).toBe(false);
  });

  it('comparisons compare numbers, bigints and strings only', () => {
    expect(guard('a > 3', 4)).toBe(true);
    expect(guard('a > 3', '4')).toBe(false);
    expect(guard('a > 3', 4n)).toBe(true);
    expect(guard('a < b', 'a', 'b')).toBe(true);
    expect(guard('a >= b', 2, 2)).toBe(true);
    expect(guard('a <= 1', null)).toBe(false);
    expect(guard('a < 1', [0])).toBe(false);
    expect(guard('a < b', 1n, 2n)).toBe(true);
  });

  it('arithmetic works on two numbers, two bigints, or + on two strings', () => {
    expect(guard('a + 1 == 3', 2)).toBe(true);
    expect(guard('a * 2 - 1 == 5 && a / 3 == 1 && a % 2 == 1', 3)).toBe(true);
    expect(guard('a + b == "xy"', 'x', 'y')).toBe(true);
    expect(guard('a + 1 == nil', '1')).toBe(true);
    expect(guard('a / 0n == nil', 1n)).toBe(true);
    expect(guard('a % 3n == 1n', 4n)).toBe(true);
    expect(guard('-a == -2', 2)).toBe(true);
    expect(guard('-a == nil', '2')).toBe(true);
  });

  it('logic is short-circuit', () => {
    expect(guard('a || b', 0, 1)).toBe(true);
    expect(guard('a && b', 1, 0)).toBe(false);
    expect(guard('!a', 0)).toBe(true);
  });

  it('~ matches strings against a regex', () => {
    expect(guard('a ~ /^se/i', 'SELECT 1')).toBe(true);
    expect(guard('a ~ /^se/', 'update')).toBe(false);
    expect(guard('a ~ /1/', 1)).toBe(false);
  });

  it('in: key presence for objects, membership for arrays, has() for Map and Set', () => {
    expect(guard('"id" in a', { id: undefined })).toBe(true);
    expect(guard('"id" in a', Object.create({ id: 1 }))).toBe(false);
    expect(guard('"x" in a', { get x() { return 1; } })).toBe(true);
    expect(guard('0 in a', { 0: 'z' })).toBe(true);
    expect(guard('"b" in a', ['a', 'b'])).toBe(true);
    expect(guard('1 in a', ['a', 'b'])).toBe(false);
    expect(guard('nil in a', [1, undefined])).toBe(true);
    expect(guard('b in a', new Map([[1, 2]]), 1)).toBe(true);
    expect(guard('b in a', new Set(['x']), 'x')).toBe(true);
    expect(guard('"a" in a', 'abc')).toBe(false);
  });

  it('member access reads data properties, string length and characters; nil and primitives give undefined', () => {
    expect(guard('a.b.c == 1', { b: { c: 1 } })).toBe(true);
    expect(guard('a.b.c == nil', { b: null })).toBe(true);
    expect(guard('a.length == 3 && a[0] == "x"', 'xyz')).toBe(true);
    expect(guard('a.length == 2', [1, 2])).toBe(true);
    expect(guard('a[b] == 2', { k: 2 }, 'k')).toBe(true);
    expect(guard('a[b] == 2', [1, 2], 1)).toBe(true);
    expect(guard('a[b] == nil', { k: 2 }, {})).toBe(true);
    expect(guard('a.toFixed == nil', 1)).toBe(true);
    expect(guard('a.x == nil', null)).toBe(true);
  });

  it('args and this are usable', () => {
    expect(accepts('m:f(...) when args.length == 2 && args[1] == "b" && args[5] == nil', 'a', 'b')).toBe(true);
    expect(matches('m:f when this.id == 7', { id: 7 }, [])).toBe(true);
    expect(matches('m:f when this.id == 7', { id: 8 }, [])).toBe(false);
    expect(matches('m:f when this == nil', undefined, [])).toBe(true);
  });
});

describe('pre/post split', () => {
  it('puts conjuncts that mention ret, err, threw or ms after the call, the others before', () => {
    const matcher = compilePattern('db:query(sql) when sql ~ /select/ && ms > 100 && sql.length > 3');
    expect(matcher.post).toBeDefined();
    expect(matcher.pre(undefined, ['update x'])).toBeUndefined();
    const bindings = matcher.pre(undefined, ['select 1']);
    expect(bindings).toBeDefined();
    expect(matcher.post?.(bindings as object, { ...RETURNED, ms: 50 })).toBe(false);
    expect(matcher.post?.(bindings as object, { ...RETURNED, ms: 150 })).toBe(true);
  });

  it('a disjunction that mentions an outcome name goes after the call whole', () => {
    const matcher = compilePattern('m:f(x) when x == 1 || threw');
    expect(matcher.pre(undefined, [2])).toBeDefined();
    expect(matcher.post?.(matcher.pre(undefined, [2]) as object, { ...RETURNED, threw: true })).toBe(true);
    expect(matcher.post?.(matcher.pre(undefined, [2]) as object, RETURNED)).toBe(false);
  });

  it('the post-guard sees names, args and this as they were at the call', () => {
    const self = { id: 1 };
    const args = [{ id: 5 }, 2];
    const matcher = compilePattern('m:f({id: X}, ...) when ret == X + args[1] + this.id');
    const bindings = matcher.pre(self, args) as object;
    args[1] = 100;
    expect(matcher.post?.(bindings, { ...RETURNED, ret: 8 })).toBe(true);
    expect(matcher.post?.(bindings, { ...RETURNED, ret: 9 })).toBe(false);
  });

  it('outcome names', () => {
    expect(matches('m:f when threw && err.message == "boom"', undefined, [], { threw: true, err: new Error('boom') })).toBe(true);
    expect(matches('m:f when ret.ok', undefined, [], { ret: { ok: true } })).toBe(true);
    expect(matches('m:f when ms >= 10', undefined, [], { ms: 9 })).toBe(false);
  });

  it('has no post when the guard does not mention the outcome, and shares one empty bindings object', () => {
    const matcher = compilePattern('m:f(x) when x > 1');
    expect(matcher.post).toBeUndefined();
    expect(matcher.pre(undefined, [2])).toBe(matcher.pre(undefined, [3]));
    const after = compilePattern('m:f(x) when ms > 1');
    expect(after.pre(undefined, [2])).toBe(after.pre(undefined, [3]));
  });
});

describe('matcher fields', () => {
  it('actions, source, normalized, globs', () => {
    const matcher = compilePattern('  m : f -> stack,hist');
    expect(matcher.actions).toEqual({ stack: true, this: false, count: false, hist: true });
    expect(matcher.source).toBe('  m : f -> stack,hist');
    expect(matcher.normalized).toBe('m:f -> stack, hist');
    expect(matcher.moduleGlob).toBe('m');
    expect(matcher.functionGlob).toBe('f');
    expect(matcher.ast).toEqual(parsePattern('m:f -> stack, hist'));
  });

  it('tooBroad only for a broad module and function with no filter', () => {
    for (const text of ['**:*', '*:*', '**:**', '*:**', '**:*(...)', '**:*(_, ...) -> stack']) expect(compilePattern(text).tooBroad, text).toBe(true);
    for (const text of ['**:*(x)', '**:*/1', '**:* when threw', 'src/**:*', '**:find*', '**:*(nil, ...)']) expect(compilePattern(text).tooBroad, text).toBe(false);
  });

  it('compiles a tree given as data, checking it first', () => {
    const matcher = compilePattern(parsePattern('m:f(x) when x > 1'));
    expect(matcher.source).toBe('m:f(x) when x > 1');
    expect(accepts(matcher, 2)).toBe(true);
    expect(() => compilePattern({ kind: 'pattern', module: 'm', function: 'f', params: null, guard: { kind: 'name', name: 'x' }, actions: [] })).toThrow(
      expect.objectContaining({ code: 'LT_PATTERN_UNBOUND_NAME' }),
    );
  });

  it('compilePatterns compiles each and throws the first error with its pattern', () => {
    expect(compilePatterns(['a:b', 'c:d(x)']).map((m) => m.normalized)).toEqual(['a:b', 'c:d(x)']);
    try {
      compilePatterns(['a:b', 'c:d(']);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(LivetraceError);
      expect((error as LivetraceError).input).toBe('c:d(');
    }
    expect(() => compilePatterns([])).toThrow(expect.objectContaining({ code: 'LT_PATTERN_EMPTY' }));
  });
});
