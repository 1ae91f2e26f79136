/**
 * The pattern matcher's view of the target's values: reads that fault instead of running
 * user code, and operators that never coerce.
 *
 * Matchers look at live arguments, receivers and results inside the traced process. A
 * plain `obj.id` could call a getter, a Proxy trap, or (through coercion) `toString`
 * and `valueOf`, and so run the application's code from inside its own dispatch
 * wrapper. Reads follow the contract of src/safe/property.ts (descriptors only, a Proxy
 * is never opened, the chain is followed through data properties, at most MAX_CHAIN
 * links) and turn what it reports into the matcher's terms:
 *
 * - a Proxy anywhere on the way, an accessor, or an over-long chain is a fault;
 * - a missing property is undefined;
 * - `stack` is never read: V8 formats it lazily through Error.prepareStackTrace;
 * - operators never coerce: comparisons look only at numbers, bigints and strings,
 *   arithmetic only at numbers, bigints (and `+` at strings), everything else gives
 *   false or undefined, so valueOf and toString are never reached.
 *
 * A fault is thrown as the FAULT sentinel; the matcher catches it (and anything else a
 * read might throw, such as a module namespace's uninitialised binding), rejects the
 * call and counts a guard error. The intrinsics used are captured when livetrace loads,
 * so an application that later replaces Object.getOwnPropertyDescriptor or
 * RegExp.prototype.exec does not get its replacement called from here.
 */
import {
  ArrayIsArray,
  ErrorPrototype,
  MapPrototypeHas,
  ObjectDefineProperty,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectHasOwn,
  RegExpPrototypeExecMethod,
  SetPrototypeHas,
  isMap,
  isNativeError,
  isPromise,
  isProxy,
  isSet,
} from './intrinsics.js';
import { BLOCKED, MAX_CHAIN, isObjectLike, prototypeOf, readable, type Readable } from './property.js';

export { isObjectLike };

/** Thrown when a read would run user code or cannot be done safely. */
export const FAULT: object = Object.freeze({ fault: 'a read that would run user code' });

const stringFromNumber = String;
const errorPrototype: object = ErrorPrototype;

/**
 * The value of `key` on an object, following the prototype chain through data
 * properties only. Throws FAULT for a Proxy, an accessor or a chain longer than
 * MAX_CHAIN; a missing property is undefined.
 *
 * This is property.ts's `lookup` written out for the matcher's hot path (the call and
 * the sentinel it returns measured some 20% slower per read); test/unit/safe holds both
 * to the same answers on every hostile value. The descriptor is a short-lived
 * allocation; the allocation-free alternative (hasOwn, then __lookupGetter__ to rule out
 * a getter, then the read) measured 40% slower.
 */
export function readFromObject(target: object, key: string): unknown {
  // V8 formats an error's stack on first read, calling Error.prepareStackTrace, which
  // applications and tools (source-map-support) replace: 'stack' is never read.
  if (key === 'stack') throw FAULT;
  let holder: object | null = target;
  for (let steps = 0; holder !== null; steps++) {
    if (steps === MAX_CHAIN || isProxy(holder)) throw FAULT;
    const descriptor = ObjectGetOwnPropertyDescriptor(holder, key);
    if (descriptor !== undefined) {
      if (!ObjectHasOwn(descriptor, 'value')) throw FAULT;
      return descriptor.value;
    }
    holder = ObjectGetPrototypeOf(holder) as object | null;
  }
  return undefined;
}

/** A property key from a guard value: strings, and numbers or bigints spelled in decimal. */
export function propertyKey(key: unknown): string | undefined {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint') return stringFromNumber(key);
  return undefined;
}

/**
 * `value[key]` for a guard. nil and other primitives give undefined (no throw, like
 * optional chaining), except a string's `length` and its characters by index.
 */
export function readProperty(value: unknown, key: unknown): unknown {
  const name = propertyKey(key);
  if (name === undefined) return undefined;
  if (typeof value === 'string') {
    if (name === 'length') return value.length;
    const index = Number(name);
    return Number.isInteger(index) && index >= 0 && stringFromNumber(index) === name && index < value.length ? value.charAt(index) : undefined;
  }
  return isObjectLike(value) ? readFromObject(value, name) : undefined;
}

/**
 * Equality for patterns and guards: SameValueZero (so NaN equals NaN and 0 equals -0),
 * and nil (null or undefined) equals nil.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== a && b !== b) || (a == null && b == null);
}

function isNumeric(value: unknown): value is number | bigint {
  return typeof value === 'number' || typeof value === 'bigint';
}

export type Comparison = '<' | '<=' | '>' | '>=';

/** Ordering of numbers and bigints (mixed freely) or of two strings; anything else is false. */
export function compare(operator: Comparison, a: unknown, b: unknown): boolean {
  let x: number | bigint | string;
  let y: number | bigint | string;
  if (isNumeric(a) && isNumeric(b)) {
    x = a;
    y = b;
  } else if (typeof a === 'string' && typeof b === 'string') {
    x = a;
    y = b;
  } else {
    return false;
  }
  switch (operator) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

export type Arithmetic = '+' | '-' | '*' | '/' | '%';

/** Arithmetic on two numbers or two bigints (and `+` on two strings); undefined otherwise. */
export function arithmetic(operator: Arithmetic, a: unknown, b: unknown): unknown {
  const numbers = typeof a === 'number' && typeof b === 'number';
  const bigints = typeof a === 'bigint' && typeof b === 'bigint';
  if (!numbers && !bigints) return operator === '+' && typeof a === 'string' && typeof b === 'string' ? a + b : undefined;
  // BigInt division by zero throws; in a guard it is simply no value.
  if (bigints && b === 0n && (operator === '/' || operator === '%')) return undefined;
  // Both operands have the same numeric type, for which these operators are all defined.
  const x = a as number;
  const y = b as number;
  switch (operator) {
    case '+':
      return x + y;
    case '-':
      return x - y;
    case '*':
      return x * y;
    case '/':
      return x / y;
    default:
      return x % y;
  }
}

export function negate(value: unknown): unknown {
  if (typeof value === 'number') return -value;
  if (typeof value === 'bigint') return -value;
  return undefined;
}

/**
 * `needle in haystack`: for an array, whether an element equals the needle (sameValue);
 * for a Map or Set, whether it has the needle (the built-in `has`, never an override);
 * for any other object, whether it has an own property of that name (data or accessor:
 * presence is known without calling the getter). Anything else: false.
 */
export function contains(haystack: unknown, needle: unknown): boolean {
  if (!isObjectLike(haystack)) return false;
  if (isProxy(haystack)) throw FAULT;
  if (ArrayIsArray(haystack)) {
    const length = (haystack as unknown[]).length;
    for (let index = 0; index < length; index++) {
      if (sameValue(readFromObject(haystack, stringFromNumber(index)), needle)) return true;
    }
    return false;
  }
  if (isMap(haystack)) return MapPrototypeHas(haystack as Map<unknown, unknown>, needle);
  if (isSet(haystack)) return SetPrototypeHas(haystack as Set<unknown>, needle);
  const name = propertyKey(needle);
  return name !== undefined && ObjectHasOwn(haystack, name);
}

/** Whether `value` is an array; a Proxy is a fault (Array.isArray would see through it, or throw if revoked). */
export function isArrayValue(value: unknown): value is unknown[] {
  if (typeof value !== 'object' || value === null) return false;
  if (isProxy(value)) throw FAULT;
  return ArrayIsArray(value);
}

/** Whether `value` is an error: a native error, or an object with Error.prototype on its (Proxy-free) chain. */
function isErrorValue(value: unknown): boolean {
  if (!isObjectLike(value)) return false;
  if (isNativeError(value)) return true;
  let current: Readable | null | typeof BLOCKED = readable(value) ?? BLOCKED;
  for (let steps = 0; current !== null; steps++) {
    if (current === BLOCKED || steps >= MAX_CHAIN) throw FAULT;
    current = prototypeOf(current);
    if (current === errorPrototype) return true;
  }
  return false;
}

export const TYPE_TESTS: Readonly<Record<string, (value: unknown) => boolean>> = {
  string: (value) => typeof value === 'string',
  number: (value) => typeof value === 'number',
  bigint: (value) => typeof value === 'bigint',
  boolean: (value) => typeof value === 'boolean',
  symbol: (value) => typeof value === 'symbol',
  function: (value) => typeof value === 'function',
  object: (value) => typeof value === 'object' && value !== null,
  array: isArrayValue,
  promise: (value) => isPromise(value),
  error: isErrorValue,
};

/**
 * A RegExp whose matching cannot be redirected into application code: its own,
 * read-only `exec` is the built-in one, which `test` then uses instead of whatever
 * RegExp.prototype.exec has become. Patterns have no g or y flag, so `test` keeps no state.
 */
export function hardenRegExp(regex: RegExp): RegExp {
  ObjectDefineProperty(regex, 'exec', { value: RegExpPrototypeExecMethod, writable: false, enumerable: false, configurable: false });
  return regex;
}
