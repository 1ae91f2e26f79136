/**
 * Argument patterns compiled to tests: `nil`, `{id: X}`, `[_, ...]`, `:string | nil`.
 * Tests read values only through safe/read.ts, so no test runs user code; the matcher
 * treats any exception a test throws as "no match".
 */
import type { ArgPattern, RegexLiteral } from '../ast.js';
import { TYPE_TESTS, isArrayValue, isObjectLike, readFromObject } from '../../safe/read.js';
import { linearRegex, type LinearRegex } from './regex.js';
import { compileBind, type Scope, type Test } from './scope.js';

export function compileArg(pattern: ArgPattern, scope: Scope): Test {
  switch (pattern.kind) {
    case 'any':
      return () => true;
    case 'bind':
      return compileBind(scope, pattern.name);
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

/** A pattern's regex, matched in linear time (regex.ts). */
export function toRegExp(literal: RegexLiteral): LinearRegex {
  return linearRegex(literal.source, literal.flags);
}

export type ArgumentTests = (args: ArrayLike<unknown>, count: number) => boolean;

/**
 * Runs each argument's test (a missing argument is undefined). Up to three tests are
 * called from straight-line code: a loop over an array of closures makes every call
 * an indirect one that V8 does not inline, which doubles the cost of a rejected call.
 */
export function compileArgumentTests(indexes: number[], tests: Test[]): ArgumentTests {
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
