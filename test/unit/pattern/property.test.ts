import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LivetraceError } from '../../../src/protocol/errors.js';
import { ACTION_NAMES, TYPE_NAMES, type ArgPattern, type BinaryOperator, type Expr, type Literal, type PatternAst } from '../../../src/pattern/ast.js';
import { globProblem } from '../../../src/pattern/glob.js';
import { checkPattern, compilePattern, parsePattern, printPattern } from '../../../src/pattern/index.js';
import { regexProblem } from '../../../src/pattern/checks.js';
import { randomText } from './random-text.js';


function expectCodedPatternError(error: unknown): void {
  expect(error).toBeInstanceOf(LivetraceError);
  expect((error as LivetraceError).code).toMatch(/^LT_PATTERN_/);
}

describe('property: the parser on random input', () => {
  it('returns a tree or throws a coded pattern error, and what it returns prints back', () => {
    fc.assert(
      fc.property(randomText, (text) => {
        let ast: PatternAst | undefined;
        try {
          ast = parsePattern(text);
        } catch (error) {
          expectCodedPatternError(error);
        }
        if (ast !== undefined) {
          sameTree(parsePattern(printPattern(ast)), ast);
          const matcher = compilePattern(ast);
          expect(() => matcher.pre(undefined, [null, { id: 1 }, 'x'])).not.toThrow();
        }
      }),
      { numRuns: 12_000 },
    );
  });
});

// ---- generated valid trees ---------------------------------------------------------------

/** Names bound by the first arguments of every generated argument list, so guards may use them. */
const BOUND = ['A', 'B', 'café'];
const name = fc.constantFrom(...BOUND, '$y', '_z');

const literal: fc.Arbitrary<Literal> = fc.oneof(
  fc.double().map((value) => ({ kind: 'number' as const, value })),
  fc.bigInt().map((value) => ({ kind: 'bigint' as const, value: value.toString() })),
  fc.string({ unit: 'binary', maxLength: 8 }).map((value) => ({ kind: 'string' as const, value })),
  fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
  fc.constantFrom<Literal>({ kind: 'null' }, { kind: 'undefined' }, { kind: 'nil' }),
);

const regex = fc
  .record({
    source: fc.constantFrom('a', '^x$', '[/]', 'a\\/b', '\\d+', '(?:ab)+', '\\u2028', '.', '\\\\', 'é|😀'),
    flags: fc.subarray(['d', 'i', 'm', 's', 'u', 'v']).map((flags) => flags.join('')),
  })
  .filter(({ source, flags }) => regexProblem(source, flags) === undefined)
  .map(({ source, flags }) => ({ kind: 'regex' as const, source, flags }));

function argPattern(depth: number, allowAlt = true): fc.Arbitrary<ArgPattern> {
  const leaves: fc.Arbitrary<ArgPattern>[] = [
    fc.constant<ArgPattern>({ kind: 'any' }),
    name.map((n) => ({ kind: 'bind' as const, name: n })),
    literal,
    fc.constantFrom(...TYPE_NAMES).map((type) => ({ kind: 'type' as const, name: type })),
    regex,
  ];
  if (depth <= 0) return fc.oneof(...leaves);
  const inner = argPattern(depth - 1);
  return fc.oneof(
    ...leaves,
    fc
      .array(fc.record({ key: fc.string({ unit: 'binary', maxLength: 6 }), pattern: inner }), { maxLength: 3 })
      .map((entries) => ({ kind: 'object' as const, entries })),
    fc.record({ elements: fc.array(inner, { maxLength: 3 }), rest: fc.boolean() }).map((array) => ({ kind: 'array' as const, ...array })),
    ...(allowAlt
      ? [fc.array(argPattern(depth - 1, false), { minLength: 2, maxLength: 3 }).map((alternatives) => ({ kind: 'alt' as const, alternatives }))]
      : []),
  );
}

const BINARY: BinaryOperator[] = ['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', 'in'];

function expr(depth: number): fc.Arbitrary<Expr> {
  const leaves: fc.Arbitrary<Expr>[] = [
    literal,
    fc.constantFrom(...BOUND).map((n) => ({ kind: 'name' as const, name: n })),
    fc.constantFrom('args' as const, 'this' as const).map((n) => ({ kind: 'context' as const, name: n })),
    fc.constantFrom('ret' as const, 'err' as const, 'threw' as const, 'ms' as const).map((n) => ({ kind: 'outcome' as const, name: n })),
  ];
  if (depth <= 0) return fc.oneof(...leaves);
  const inner = expr(depth - 1);
  return fc.oneof(
    ...leaves,
    fc.record({ object: inner, key: inner }).map((member) => ({ kind: 'member' as const, ...member })),
    fc.record({ operator: fc.constantFrom('!' as const, '-' as const), operand: inner }).map((unary) => ({ kind: 'unary' as const, ...unary })),
    fc.record({ operator: fc.constantFrom(...BINARY), left: inner, right: inner }).map((binary) => ({ kind: 'binary' as const, ...binary })),
    fc.record({ operator: fc.constantFrom('&&' as const, '||' as const), left: inner, right: inner }).map((logical) => ({ kind: 'logical' as const, ...logical })),
    fc.record({ subject: inner, regex }).map((match) => ({ kind: 'match' as const, ...match })),
  );
}

const glob = fc.oneof(
  fc.constantFrom('src/users', 'node:fs', '**', '*', 'UserRepo#save', 'db.users.find', '@scope/x', 'a b', 'x:y', 'node:'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
);

/** A generated glob pair both of whose globs compile. */
const globs = fc
  .record({ module: glob, function: glob })
  .filter(({ module, function: fn }) => globProblem(module, 'module') === undefined && globProblem(fn, 'function') === undefined
);

const pattern: fc.Arbitrary<PatternAst> = fc
  .record({
    globs,
    params: fc.oneof(
      fc.constant(null),
      fc.nat({ max: 300 }).map((arity) => ({ kind: 'arity' as const, arity })),
      fc.record({ patterns: fc.array(argPattern(3), { maxLength: 3 }), rest: fc.boolean() }).map(({ patterns, rest }) => ({
        kind: 'args' as const,
        patterns: [...BOUND.map((n) => ({ kind: 'bind' as const, name: n })), ...patterns],
        rest,
      })),
    ),
    guard: fc.option(expr(3), { nil: null }),
    actions: fc.subarray([...ACTION_NAMES]),
  })
  .map(({ globs: { module, function: fn }, params, guard, actions }): PatternAst => {
    // A guard may only use names when the argument list binds them.
    const bound = { kind: 'args' as const, patterns: BOUND.map((n) => ({ kind: 'bind' as const, name: n })), rest: true };
    return { kind: 'pattern', module, function: fn, params: guard !== null && params?.kind !== 'args' ? bound : params, guard, actions };
  });

/** Deep equality that tells -0 from 0 (like toEqual), fast; toEqual only to show a difference. */
function sameTree(actual: PatternAst, expected: PatternAst): void {
  if (!isDeepStrictEqual(actual, expected)) expect(actual).toEqual(expected);
}

describe('property: printing generated trees', () => {
  it('parse(print(ast)) gives back ast, and printing is stable', () => {
    fc.assert(
      fc.property(pattern, (ast) => {
        sameTree(checkPattern(ast), ast);
        const text = printPattern(ast);
        const reparsed = parsePattern(text);
        sameTree(reparsed, ast);
        expect(printPattern(reparsed)).toBe(text);
      }),
      { numRuns: 1_500 },
    );
  });

  it('every generated tree compiles, and its matcher never throws', () => {
    const values: unknown[] = [null, undefined, 0, -1, 'A', 1n, [1, 'A'], { id: 1 }, new Map(), Symbol('s'), new Proxy({}, {}), () => 1];
    fc.assert(
      fc.property(pattern, fc.array(fc.constantFrom(...values), { maxLength: 6 }), fc.constantFrom(...values), (ast, args, self) => {
        const matcher = compilePattern(ast);
        const bindings = matcher.pre(self, args);
        if (bindings !== undefined && matcher.post !== undefined) {
          expect(typeof matcher.post(bindings, { ret: args[0], err: undefined, threw: false, ms: 1 })).toBe('boolean');
        }
      }),
      { numRuns: 500 },
    );
  });
});
