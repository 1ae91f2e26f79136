/**
 * Guard expressions compiled to closures over a Frame: the call's bindings, receiver,
 * arguments and (after the call) its outcome. Literals are folded to constants, and a
 * comparison with a number constant has a fast path for numbers.
 */
import { subExpressions, type Expr } from '../ast.js';
import type { Outcome } from './matcher.js';
import { arithmetic, compare, contains, negate, readProperty, sameValue, type Arithmetic, type Comparison } from '../../safe/read.js';
import { toRegExp } from './args.js';
import type { Scope } from './scope.js';

/** What a guard reads from: the bindings, `this`, `args` and the outcome. */
export interface Frame {
  slots: unknown[];
  self: unknown;
  args: ArrayLike<unknown>;
  outcome: Outcome | undefined;
}

export type Evaluate = (frame: Frame) => unknown;

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

/**
 * `value <op> constant` as a test of one value, with the guard's own semantics, or undefined when `right` is no constant
 * or the operator is not a comparison or `==`.
 * Kept beside compileComparison: the same fast path, the same fallback.
 */
export function compileValueComparison(operator: string, right: Expr): ((value: unknown) => boolean) | undefined {
  const constant = constantOf(right);
  if (constant === undefined) return undefined;
  const value = constant.value;
  if (operator === '==') return (v) => sameValue(v, value);
  if (!COMPARISONS.has(operator)) return undefined;
  const op = operator as Comparison;
  if (typeof value !== 'number') return (v) => compare(op, v, value);
  switch (op) {
    case '<':
      return (v) => (typeof v === 'number' ? v < value : compare(op, v, value));
    case '<=':
      return (v) => (typeof v === 'number' ? v <= value : compare(op, v, value));
    case '>':
      return (v) => (typeof v === 'number' ? v > value : compare(op, v, value));
    default:
      return (v) => (typeof v === 'number' ? v >= value : compare(op, v, value));
  }
}

export function compileExpr(expr: Expr, scope: Scope): Evaluate {
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
export function reads(expr: Expr | null): { names: boolean; self: boolean; args: boolean } {
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
