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
 * Matching never runs user code (see reader.ts): a value that could only be read by
 * running it, or any exception at all, makes the call not match and bumps
 * `guardErrors`. `pre` and `post` never throw.
 *
 * Arguments: `(p1, ..., pn)` tests a call with at most n arguments, a missing one
 * counting as undefined (as JavaScript parameters see it); `...` allows more; `/n`
 * wants exactly n.
 */
import {
  namesIn,
  splitGuard,
  subExpressions,
  type ArgPattern,
  type Expr,
  type PatternAst,
  type RegexLiteral,
  isTooBroad,
} from '../ast.js';
import { compileFunctionGlob, compileModuleGlob } from '../glob.js';
import type { Actions, Bindings, Matcher, ModuleRef, Outcome } from './matcher.js';
import { printPattern } from '../printer.js';
import {
  TYPE_TESTS,
  arithmetic,
  compare,
  contains,
  hardenRegExp,
  isArrayValue,
  isObjectLike,
  negate,
  readFromObject,
  readProperty,
  sameValue,
  type Arithmetic,
  type Comparison,
} from '../../safe/read.js';

/** A compiled matcher also keeps the checked tree it came from. */
export interface CompiledMatcher extends Matcher {
  readonly ast: PatternAst;
}

type Test = (value: unknown) => boolean;

interface Frame {
  slots: unknown[];
  self: unknown;
  args: ArrayLike<unknown>;
  outcome: Outcome | undefined;
}

type Evaluate = (frame: Frame) => unknown;

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
const UNBOUND: unique symbol = Symbol('unbound');

/** Per-matcher scratch state for binding names while one call is tested. */
class Scope {
  readonly slots: unknown[];
  readonly trail: number[] = [];
  top = 0;

  constructor(readonly names: readonly string[]) {
    this.slots = names.map(() => UNBOUND);
  }

  slotOf(name: string): number {
    return this.names.indexOf(name);
  }

  /** Unbinds everything bound since `mark`, so a failed alternative leaves no trace. */
  unwind(mark: number): void {
    while (this.top > mark) this.slots[this.trail[--this.top] as number] = UNBOUND;
  }
}

// ---- argument patterns ------------------------------------------------------------

function compileArg(pattern: ArgPattern, scope: Scope): Test {
  switch (pattern.kind) {
    case 'any':
      return () => true;
    case 'bind': {
      const slot = scope.slotOf(pattern.name);
      const { slots, trail } = scope;
      return (value) => {
        const current = slots[slot];
        if (current === UNBOUND) {
          slots[slot] = value;
          trail[scope.top++] = slot;
          return true;
        }
        return sameValue(current, value);
      };
    }
    case 'number': {
      const expected = pattern.value;
      return Number.isNaN(expected) ? (value) => value !== value : (value) => value === expected;
    }
    case 'bigint': {
      const expected = BigInt(pattern.value);
      return (value) => value === expected;
    }
    case 'string':
    case 'boolean': {
      const expected = pattern.value;
      return (value) => value === expected;
    }
    case 'null':
      return (value) => value === null;
    case 'undefined':
      return (value) => value === undefined;
    case 'nil':
      return (value) => value === null || value === undefined;
    case 'type':
      return TYPE_TESTS[pattern.name] as Test;
    case 'regex': {
      const regex = toRegExp(pattern);
      return (value) => typeof value === 'string' && regex.test(value);
    }
    case 'object': {
      const keys = pattern.entries.map((entry) => entry.key);
      const tests = pattern.entries.map((entry) => compileArg(entry.pattern, scope));
      if (keys.length === 1) {
        // The common `{id: X}`, without the loop.
        const key = keys[0] as string;
        const test = tests[0] as Test;
        return (value) => isObjectLike(value) && test(readFromObject(value, key));
      }
      return (value) => {
        if (!isObjectLike(value)) return false;
        for (let i = 0; i < keys.length; i++) {
          if (!(tests[i] as Test)(readFromObject(value, keys[i] as string))) return false;
        }
        return true;
      };
    }
    case 'array': {
      const count = pattern.elements.length;
      const keys = pattern.elements.map((_, index) => String(index));
      const tests = pattern.elements.map((element) => compileArg(element, scope));
      const rest = pattern.rest;
      return (value) => {
        if (!isArrayValue(value)) return false;
        const length = value.length;
        if (rest ? length < count : length !== count) return false;
        for (let i = 0; i < count; i++) {
          if (!(tests[i] as Test)(readFromObject(value, keys[i] as string))) return false;
        }
        return true;
      };
    }
    case 'alt': {
      const tests = pattern.alternatives.map((alternative) => compileArg(alternative, scope));
      return (value) => {
        const mark = scope.top;
        for (const test of tests) {
          if (test(value)) return true;
          scope.unwind(mark);
        }
        return false;
      };
    }
  }
}

function toRegExp(literal: RegexLiteral): RegExp {
  return hardenRegExp(new RegExp(literal.source, literal.flags));
}

// ---- guard expressions --------------------------------------------------------------

const COMPARISONS: ReadonlySet<string> = new Set(['<', '<=', '>', '>=']);

function constantOf(expr: Expr): { value: unknown } | undefined {
  switch (expr.kind) {
    case 'number':
    case 'string':
    case 'boolean':
      return { value: expr.value };
    case 'bigint':
      return { value: BigInt(expr.value) };
    case 'null':
      return { value: null };
    case 'undefined':
    case 'nil':
      return { value: undefined };
    default:
      return undefined;
  }
}

/** A comparison, with a fast path when both sides are numbers. */
function compileComparison(operator: Comparison, left: Evaluate, right: Evaluate, constant: unknown): Evaluate {
  if (typeof constant === 'number') {
    const c = constant;
    switch (operator) {
      case '<':
        return (f) => {
          const a = left(f);
          return typeof a === 'number' ? a < c : compare(operator, a, c);
        };
      case '<=':
        return (f) => {
          const a = left(f);
          return typeof a === 'number' ? a <= c : compare(operator, a, c);
        };
      case '>':
        return (f) => {
          const a = left(f);
          return typeof a === 'number' ? a > c : compare(operator, a, c);
        };
      default:
        return (f) => {
          const a = left(f);
          return typeof a === 'number' ? a >= c : compare(operator, a, c);
        };
    }
  }
  return (f) => compare(operator, left(f), right(f));
}

function compileExpr(expr: Expr, scope: Scope): Evaluate {
  const constant = constantOf(expr);
  if (constant !== undefined) {
    const value = constant.value;
    return () => value;
  }
  switch (expr.kind) {
    case 'name': {
      const slot = scope.slotOf(expr.name);
      return (f) => f.slots[slot];
    }
    case 'context':
      return expr.name === 'this' ? (f) => f.self : (f) => f.args;
    case 'outcome': {
      const name = expr.name;
      return (f) => (f.outcome as Outcome)[name];
    }
    case 'member':
      return compileMember(expr.object, expr.key, scope);
    case 'unary': {
      const operand = compileExpr(expr.operand, scope);
      return expr.operator === '!' ? (f) => !operand(f) : (f) => negate(operand(f));
    }
    case 'logical': {
      const left = compileExpr(expr.left, scope);
      const right = compileExpr(expr.right, scope);
      return expr.operator === '&&' ? (f) => left(f) && right(f) : (f) => left(f) || right(f);
    }
    case 'match': {
      const subject = compileExpr(expr.subject, scope);
      const regex = toRegExp(expr.regex);
      return (f) => {
        const value = subject(f);
        return typeof value === 'string' && regex.test(value);
      };
    }
    case 'binary': {
      const left = compileExpr(expr.left, scope);
      const right = compileExpr(expr.right, scope);
      const operator = expr.operator;
      if (COMPARISONS.has(operator)) return compileComparison(operator as Comparison, left, right, constantOf(expr.right)?.value);
      switch (operator) {
        case '==':
          return (f) => sameValue(left(f), right(f));
        case '!=':
          return (f) => !sameValue(left(f), right(f));
        case 'in':
          return (f) => contains(right(f), left(f));
        default:
          return (f) => arithmetic(operator as Arithmetic, left(f), right(f));
      }
    }
    default:
      // Literals were handled above as constants.
      return () => undefined;
  }
}

function compileMember(objectExpr: Expr, keyExpr: Expr, scope: Scope): Evaluate {
  const object = compileExpr(objectExpr, scope);
  const key = constantOf(keyExpr);
  // args[i] and args.length read the engine's own argument list (or this matcher's copy
  // of it), which holds plain data: no descriptor walk is needed.
  if (objectExpr.kind === 'context' && objectExpr.name === 'args' && key !== undefined) {
    if (key.value === 'length') return (f) => f.args.length;
    const index = typeof key.value === 'number' ? key.value : typeof key.value === 'string' ? Number(key.value) : Number.NaN;
    if (Number.isInteger(index) && index >= 0 && String(index) === String(key.value)) {
      return (f) => (index < f.args.length ? f.args[index] : undefined);
    }
  }
  if (key !== undefined) {
    const constantKey = key.value;
    return (f) => readProperty(object(f), constantKey);
  }
  const keyOf = compileExpr(keyExpr, scope);
  return (f) => readProperty(object(f), keyOf(f));
}

/** Which of the call's parts an expression reads. */
function reads(expr: Expr | null): { names: boolean; self: boolean; args: boolean } {
  const found = { names: false, self: false, args: false };
  const visit = (node: Expr): void => {
    if (node.kind === 'name') found.names = true;
    else if (node.kind === 'context' && node.name === 'this') found.self = true;
    else if (node.kind === 'context') found.args = true;
    subExpressions(node).forEach(visit);
  };
  if (expr !== null) visit(expr);
  return found;
}

// ---- the matcher ---------------------------------------------------------------------

type ArgumentTests = (args: ArrayLike<unknown>, count: number) => boolean;

/**
 * Runs each argument's test (a missing argument is undefined). Up to three tests are
 * called from straight-line code: a loop over an array of closures makes every call
 * an indirect one that V8 does not inline, which doubles the cost of a rejected call.
 */
function compileArgumentTests(indexes: number[], tests: Test[]): ArgumentTests {
  const at = (index: number, args: ArrayLike<unknown>, count: number): unknown => (index < count ? args[index] : undefined);
  const [i0 = 0, i1 = 0, i2 = 0] = indexes;
  const [t0, t1, t2] = tests;
  switch (tests.length) {
    case 0:
      return () => true;
    case 1: {
      const first = t0 as Test;
      return (args, count) => first(at(i0, args, count));
    }
    case 2: {
      const first = t0 as Test;
      const second = t1 as Test;
      return (args, count) => first(at(i0, args, count)) && second(at(i1, args, count));
    }
    case 3: {
      const first = t0 as Test;
      const second = t1 as Test;
      const third = t2 as Test;
      return (args, count) => first(at(i0, args, count)) && second(at(i1, args, count)) && third(at(i2, args, count));
    }
    default:
      return (args, count) => {
        for (let i = 0; i < tests.length; i++) {
          if (!(tests[i] as Test)(at(indexes[i] as number, args, count))) return false;
        }
        return true;
      };
  }
}

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
    argIndexes.push(index);
    argTests.push(compileArg(pattern, scope));
  });
  const argsMatch = compileArgumentTests(argIndexes, argTests);

  const { pre: preExpr, post: postExpr } = splitGuard(ast.guard);
  const preGuard = preExpr === null ? undefined : compileExpr(preExpr, scope);
  const postGuard = postExpr === null ? undefined : compileExpr(postExpr, scope);
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
