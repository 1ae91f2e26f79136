/**
 * Objects that stand for one value: dates, regular expressions, boxed primitives, and
 * functions (by name and kind, never by calling or printing them). Each reads its
 * internal slot through a built-in taken at load, so a replaced `Date.prototype.getTime`,
 * `RegExp.prototype.source` or `valueOf` is never consulted.
 */
import type { FunctionValue, Value } from '../../protocol/value.js';
import {
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  DatePrototypeGetTime,
  DatePrototypeToISOString,
  NumberPrototypeValueOf,
  REGEXP_FLAGS,
  RegExpPrototypeGetSource,
  StringPrototypeValueOf,
  SymbolPrototypeValueOf,
  isBigIntObject,
  isBooleanObject,
  isNumberObject,
  isStringObject,
  isSymbolObject,
} from '../../safe/intrinsics.js';
import { functionKind, functionName, type Readable } from '../../safe/property.js';
import type { Budget } from './budget.js';
import { TAG_BYTES } from './markers.js';

export function date(b: Budget, value: object): Value {
  const date = value as Date;
  const time = DatePrototypeGetTime(date);
  b.budget -= TAG_BYTES + 24;
  return { $: 'date', value: time !== time ? 'Invalid Date' : DatePrototypeToISOString(date) };
}

export function regexp(b: Budget, value: object): Value {
  const re = value as RegExp;
  let flags = '';
  for (let i = 0; i < REGEXP_FLAGS.length; i++) {
    const flag = REGEXP_FLAGS[i]!;
    if (flag[1](re)) flags += flag[0];
  }
  b.budget -= TAG_BYTES + flags.length;
  const source = RegExpPrototypeGetSource(re);
  return { $: 'regexp', source: b.cut(source, b.stringLimit, source.length), flags };
}

/** A boxed primitive's value; undefined for an object that only inherits from one of their prototypes. */
export function boxed(b: Budget, value: object): Value | undefined {
  let inner: unknown;
  if (isNumberObject(value)) inner = NumberPrototypeValueOf(value as number);
  else if (isStringObject(value)) inner = StringPrototypeValueOf(value as string);
  else if (isBooleanObject(value)) inner = BooleanPrototypeValueOf(value as boolean);
  else if (isBigIntObject(value)) inner = BigIntPrototypeValueOf(value as bigint);
  else if (isSymbolObject(value)) inner = SymbolPrototypeValueOf(value as symbol);
  else return undefined;
  b.budget -= TAG_BYTES;
  return { $: 'boxed', value: b.walk(inner, 0) };
}

export function fn(b: Budget, value: Readable): FunctionValue {
  const own = functionName(value);
  const name = own === '' ? '' : b.name(own);
  b.budget -= name.length + TAG_BYTES;
  const kind = functionKind(value);
  return kind === undefined ? { $: 'function', name } : { $: 'function', name, kind };
}
