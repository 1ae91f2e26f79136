/**
 * The one way livetrace looks at the target's objects: through property descriptors and
 * prototype links, never `obj[key]`, so that no getter, setter, Proxy trap, `toJSON`,
 * `valueOf`, `toString` or `util.inspect.custom` of the application ever runs.
 *
 * The contract, shared by the pattern matcher (src/safe/read.ts), the capturer
 * (src/agent/capture/) and the catalog (src/agent/catalog/):
 *
 * - A Proxy (live or revoked) is never looked into: `readable()` is the only door to the
 *   other functions here and shuts on one (util.types.isProxy runs no trap). The
 *   `Readable` type records that the check was made, once per object, so a hot loop over
 *   one object's fields does not repeat it; a prototype reached by `prototypeOf()` is
 *   checked again on the way.
 * - A property is read only when it is a data property, known by an own `value` on its
 *   descriptor (not an inherited one: a program may give Object.prototype a `value`). An
 *   accessor is reported as ACCESSOR and its functions are never called.
 * - A missing property is looked up along the prototype chain under the same rules, at
 *   most MAX_CHAIN links; a Proxy on the way, or a longer chain, is BLOCKED.
 * - Every intrinsic is taken when livetrace loads (src/safe/intrinsics.ts), so replacing
 *   Object.getOwnPropertyDescriptor, Reflect.ownKeys or Function.prototype.toString later
 *   does not get the replacement called from here.
 *
 * Reading a descriptor can still throw without running user code: a module namespace's
 * binding still in its temporal dead zone throws a ReferenceError, and a deeply recursive
 * caller may leave too little stack. Callers catch (each in its own way: the matcher
 * rejects the call, the capturer writes `{"$":"unreadable"}`, the catalog skips the key).
 */
import type { FunctionKind } from '../protocol/value.js';
import {
  FunctionPrototypeToString,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectHasOwn,
  ObjectKeys,
  ReflectOwnKeys,
  StringPrototypeCharCodeAt,
  StringPrototypeStartsWith,
  isAsyncFunction,
  isGeneratorFunction,
  isProxy,
} from './intrinsics.js';

declare const checked: unique symbol;
/** An object or function known not to be a Proxy: its descriptors and prototype link can be read without running user code. */
export type Readable = object & { readonly [checked]: true };

/** An accessor (getter and/or setter) was found where a value was asked for. */
export const ACCESSOR: unique symbol = Symbol('livetrace.accessor');
/** No such property, on the object or (for lookup) anywhere on its chain. */
export const MISSING: unique symbol = Symbol('livetrace.missing');
/** A Proxy (or a chain longer than MAX_CHAIN) stands in the way: what lies beyond is unknown. */
export const BLOCKED: unique symbol = Symbol('livetrace.blocked');

/** Prototype links followed at most. Chains cannot loop (except through a Proxy, which stops the walk); this only bounds the cost. */
export const MAX_CHAIN = 64;

/** Whether `value` can have properties (objects and functions). */
export function isObjectLike(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** `value` as Readable, or undefined for a primitive or a Proxy. */
export function readable(value: unknown): Readable | undefined {
  return isObjectLike(value) && !isProxy(value) ? (value as Readable) : undefined;
}

/** The own descriptor of `key`; undefined when there is none. */
export function ownDescriptor(holder: Readable, key: PropertyKey): PropertyDescriptor | undefined {
  return ObjectGetOwnPropertyDescriptor(holder, key);
}

/** Whether a descriptor describes a data property (its own `value`, never an inherited one). */
export function isData(descriptor: PropertyDescriptor): boolean {
  return ObjectHasOwn(descriptor, 'value');
}

/** The value of an own data property; ACCESSOR or MISSING otherwise. */
export function ownData(holder: Readable, key: PropertyKey): unknown {
  const descriptor = ObjectGetOwnPropertyDescriptor(holder, key);
  if (descriptor === undefined) return MISSING;
  return ObjectHasOwn(descriptor, 'value') ? descriptor.value : ACCESSOR;
}

/** The prototype, itself checked: BLOCKED when it is a Proxy. */
export function prototypeOf(holder: Readable): Readable | null | typeof BLOCKED {
  const proto = ObjectGetPrototypeOf(holder) as object | null;
  if (proto === null) return null;
  return isProxy(proto) ? BLOCKED : (proto as Readable);
}

/**
 * `holder[key]` along the prototype chain, by descriptors only: the value of the first data
 * property found, ACCESSOR for an accessor, MISSING past the end, BLOCKED at a Proxy or
 * after MAX_CHAIN links.
 */
export function lookup(holder: Readable, key: PropertyKey): unknown {
  let p: object | null = holder;
  for (let steps = 0; steps < MAX_CHAIN; steps++) {
    const descriptor = ObjectGetOwnPropertyDescriptor(p, key);
    if (descriptor !== undefined) return ObjectHasOwn(descriptor, 'value') ? descriptor.value : ACCESSOR;
    p = ObjectGetPrototypeOf(p) as object | null;
    if (p === null) return MISSING;
    if (isProxy(p)) return BLOCKED;
  }
  return BLOCKED;
}

/** Every own key, strings and symbols (never a trap: the holder is not a Proxy). */
export function ownKeys(holder: Readable): (string | symbol)[] {
  return ReflectOwnKeys(holder);
}

/**
 * Own enumerable string keys. Object.keys reads no value of an ordinary object; on a
 * module namespace it reads every binding (and throws on one in its TDZ), so namespaces
 * take ownKeys instead.
 */
export function enumerableKeys(holder: Readable): string[] {
  return ObjectKeys(holder);
}

/** A function's own `name` when it is a string data property; '' otherwise (a `static get name()` is not called). */
export function functionName(fn: Readable): string {
  const name = ObjectGetOwnPropertyDescriptor(fn, 'name');
  return name !== undefined && ObjectHasOwn(name, 'value') && typeof name.value === 'string' ? name.value : '';
}

/** `proto.constructor.name`, through data properties only; '' when that is not possible. */
export function constructorName(proto: Readable): string {
  const fn = ownData(proto, 'constructor');
  const checkedFn = typeof fn === 'function' ? readable(fn) : undefined;
  return checkedFn === undefined ? '' : functionName(checkedFn);
}

const CLASS_PREFIX_LENGTH = 5;

/** Whether the character after `class` ends the keyword of a class: white space, `{` or a comment (so `classify() {}` and a method named `class` are no class). */
function endsClassKeyword(code: number): boolean {
  return code === 0x20 || code === 0x7b || code === 0x2f || (code >= 0x09 && code <= 0x0d);
}

/** What kind of function `fn` is, beyond a plain one: from V8's internal flags and the source text it already holds. */
export function functionKind(fn: Readable): FunctionKind | undefined {
  if (isAsyncFunction(fn)) return isGeneratorFunction(fn) ? 'asyncgenerator' : 'async';
  if (isGeneratorFunction(fn)) return 'generator';
  // The built-in toString returns the text V8 keeps (never user code); a class starts
  // with the keyword `class`; a method named `classify` or `class` does not count.
  let source: string;
  try {
    source = FunctionPrototypeToString(fn as unknown as () => void);
  } catch {
    return undefined;
  }
  return StringPrototypeStartsWith(source, 'class') && endsClassKeyword(StringPrototypeCharCodeAt(source, CLASS_PREFIX_LENGTH))
    ? 'class'
    : undefined;
}
