/**
 * Compiles a checked pattern tree into a Matcher: a tree of small closures, one per
 * node, built once. No code is generated from text: every literal, key and regular
 * expression is held as a value inside a closure, so nothing in a pattern can ever be
 * evaluated as JavaScript.
 *
 * The hot path is `pre`, called in the dispatch wrapper of every patched function.
 * It is arranged so that a rejected call costs almost nothing and allocates nothing:
 * the argument count is checked first, argument tests run in order and stop at the
 * first failure, bound names live in a per-matcher scratch array that is cleared on
 * the way out (so no argument stays reachable from the matcher), and only a matching
 * call that has a post-guard needing them allocates (a copy of its bindings).
 *
 * Matching never runs user code (see safe/read.ts): a value that could only be read by
 * running it, or any exception at all, makes the call not match and bumps
 * `guardErrors`. `pre` and `post` never throw.
 *
 * Arguments: `(p1, ..., pn)` tests a call with at most n arguments, a missing one
 * counting as undefined (as JavaScript parameters see it); `...` allows more; `/n`
 * wants exactly n.
 */
import { namesIn, splitGuard, type ArgPattern, type Expr, type PatternAst, isTooBroad } from '../ast.js';
import { compileFunctionGlob, compileModuleGlob } from '../glob.js';
import type { Actions, Bindings, Matcher, ModuleRef, Outcome, Positional } from './matcher.js';
import { printPattern } from '../printer.js';
import { compileArg, compileArgumentTests } from './args.js';
import { compileExpr, compileValueComparison, reads, type Evaluate, type Frame } from './guards.js';
import { Scope, type Test } from './scope.js';
import { ArrayPrototypePush } from '../../safe/intrinsics.js';

/** A compiled matcher also keeps the checked tree it came from. */
export interface CompiledMatcher extends Matcher {
  readonly ast: PatternAst;
}

/** What `pre` hands to `post`: copies of only what the post-guard reads. */
interface Captured {
  slots: unknown[] | undefined;
  self: unknown;
  args: unknown[] | undefined;
}

/** The bindings of every matching call whose post-guard needs nothing from before the call. */
const NOTHING_CAPTURED: Bindings = Object.freeze({});
const NO_ARGS: ArrayLike<unknown> = Object.freeze([]);
const NO_SLOTS: unknown[] = [];

/** Compiles a tree that has passed checkPattern. */
export function compileChecked(ast: PatternAst, source: string): CompiledMatcher {
  const params = ast.params;
  const patterns = params?.kind === 'args' ? params.patterns : [];
  const names: string[] = [];
  for (const pattern of patterns) namesIn(pattern, names);
  const scope = new Scope(names);

  const minArgs = params?.kind === 'arity' ? params.arity : 0;
  const maxArgs = params?.kind === 'arity' ? params.arity : params?.kind === 'args' && !params.rest ? patterns.length : Number.POSITIVE_INFINITY;
  const argIndexes: number[] = [];
  const argTests: Test[] = [];
  patterns.forEach((pattern, index) => {
    if (pattern.kind === 'any') return;
    ArrayPrototypePush(argIndexes, index);
    ArrayPrototypePush(argTests, compileArg(pattern, scope));
  });
  const argsMatch = compileArgumentTests(argIndexes, argTests);
  const positional = positionalTest(patterns, argIndexes, argTests);

  const { pre: preExpr, post: postExpr } = splitGuard(ast.guard);
  const preGuard = preExpr === null ? undefined : compileExpr(preExpr, scope);
  const postGuard = postExpr === null ? undefined : compileExpr(postExpr, scope);
  const pretest = positional ?? (preExpr === null ? undefined : guardPositional(patterns, preExpr));
  const postReads = reads(postExpr);
  const filters = argTests.length > 0 || preGuard !== undefined;
  const captures = postReads.names || postReads.self || postReads.args;

  const frame: Frame = { slots: scope.slots, self: undefined, args: NO_ARGS, outcome: undefined };
  const postFrame: Frame = { slots: NO_SLOTS, self: undefined, args: NO_ARGS, outcome: undefined };

  const capture = (self: unknown, args: ArrayLike<unknown>, count: number): Bindings => {
    const captured: Captured = { slots: undefined, self: undefined, args: undefined };
    if (postReads.names) captured.slots = scope.slots.slice();
    if (postReads.self) captured.self = self;
    if (postReads.args) {
      const copy = new Array<unknown>(count);
      for (let i = 0; i < count; i++) copy[i] = args[i];
      captured.args = copy;
    }
    return captured;
  };

  /** Clears the names bound while testing a call, so no argument stays reachable. */
  const unbind = (): undefined => {
    if (scope.top !== 0) scope.unwind(0);
    return undefined;
  };

  const guardPasses = (self: unknown, args: ArrayLike<unknown>): boolean => {
    frame.self = self;
    frame.args = args;
    try {
      return !!(preGuard as Evaluate)(frame);
    } finally {
      frame.self = undefined;
      frame.args = NO_ARGS;
    }
  };

  const matchModule = compileModuleGlob(ast.module);
  const matchFunction = compileFunctionGlob(ast.function);
  const actions: Actions = Object.freeze({
    stack: ast.actions.includes('stack'),
    this: ast.actions.includes('this'),
    count: ast.actions.includes('count'),
    hist: ast.actions.includes('hist'),
  });

  const matcher: CompiledMatcher = {
    ast,
    source,
    normalized: printPattern(ast),
    moduleGlob: ast.module,
    functionGlob: ast.function,
    tooBroad: isTooBroad(ast),
    actions,
    positional: pretest,
    acceptsAll: minArgs === 0 && maxArgs === Number.POSITIVE_INFINITY && !filters && postGuard === undefined,
    guardErrors: 0,
    matchModule(module: ModuleRef): boolean {
      try {
        return matchModule(module);
      } catch {
        return false;
      }
    },
    matchFunction(path: string): boolean {
      try {
        return typeof path === 'string' && matchFunction(path);
      } catch {
        return false;
      }
    },
    pre(self: unknown, args: ArrayLike<unknown>): Bindings | undefined {
      const count = args.length;
      if (count < minArgs || count > maxArgs) return undefined;
      if (!filters) return captures ? capture(self, args, count) : NOTHING_CAPTURED;
      // No try/finally: the common exit, a failed argument test, only has to unbind.
      try {
        if (!argsMatch(args, count)) return unbind();
        if (preGuard !== undefined && !guardPasses(self, args)) return unbind();
        const bindings = captures ? capture(self, args, count) : NOTHING_CAPTURED;
        unbind();
        return bindings;
      } catch {
        matcher.guardErrors++;
        return unbind();
      }
    },
    post:
      postGuard === undefined
        ? undefined
        : (bindings: Bindings, outcome: Outcome): boolean => {
            const captured = bindings as Partial<Captured>;
            postFrame.slots = captured.slots ?? NO_SLOTS;
            postFrame.self = captured.self;
            postFrame.args = captured.args ?? NO_ARGS;
            postFrame.outcome = outcome;
            try {
              return !!postGuard(postFrame);
            } catch {
              matcher.guardErrors++;
              return false;
            } finally {
              postFrame.slots = NO_SLOTS;
              postFrame.self = undefined;
              postFrame.args = NO_ARGS;
              postFrame.outcome = undefined;
            }
          },
  };
  return matcher;
}

/**
 * The first argument test that binds no name (a test that binds would leave its binding
 * in the scope when run alone): run on its own it rejects exactly the calls it rejects
 * inside `pre`.
 */
function positionalTest(patterns: readonly ArgPattern[], indexes: number[], tests: Test[]): Positional | undefined {
  for (let i = 0; i < indexes.length; i++) {
    const at = indexes[i]!;
    if (namesIn(patterns[at]!).length === 0) return { at, test: tests[i]! };
  }
  return undefined;
}

/**
 * A pre-guard conjunct `X < 3` (any comparison or `==` with a constant) where X is a whole
 * argument (`f(X, _)`): X is that argument's value in every call that gets to the guard
 * (bound there, or checked equal to it), so the comparison on the argument alone is a
 * necessary test.
 */
function guardPositional(patterns: readonly ArgPattern[], guard: Expr): Positional | undefined {
  const conjuncts: Expr[] = [];
  const pending: Expr[] = [guard];
  while (pending.length > 0) {
    const expr = pending.pop()!;
    if (expr.kind === 'logical' && expr.operator === '&&') ArrayPrototypePush(pending, expr.right, expr.left);
    else ArrayPrototypePush(conjuncts, expr);
  }
  for (const expr of conjuncts) {
    if (expr.kind !== 'binary' || expr.left.kind !== 'name') continue;
    const name = expr.left.name;
    const at = patterns.findIndex((pattern) => pattern.kind === 'bind' && pattern.name === name);
    if (at === -1) continue;
    const test = compileValueComparison(expr.operator, expr.right);
    if (test !== undefined) return { at, test };
  }
  return undefined;
}
