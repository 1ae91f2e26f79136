/**
 * Built-in functions taken when the agent loads, before the code it inspects can
 * replace them.
 *
 * Inspecting a value safely means never calling anything the user's code could have
 * installed: `map.entries()` looks `entries` up on `Map.prototype`, which anyone may
 * overwrite; `s.slice()` does the same on `String.prototype`; `re.test()` calls
 * `re.exec`. So the capture code calls these copies instead, with the receiver passed
 * explicitly (`MapPrototypeEntries(map)`), like Node's own "primordials". Accessors of
 * built-in prototypes (`Map.prototype.size`, `RegExp.prototype.source`, the typed-array
 * `length`) are taken as their getter functions: they read internal slots, never user
 * properties.
 */
import { types } from 'node:util';

type Uncurried<T, A extends unknown[], R> = (self: T, ...args: A) => R;

/** `fn.call` with `fn` fixed: `uncurryThis(Map.prototype.get)(map, key)`. */
export const uncurryThis = Function.prototype.bind.bind(Function.prototype.call) as <T, A extends unknown[], R>(
  fn: (this: T, ...args: A) => R,
) => Uncurried<T, A, R>;

/** The getter of a built-in accessor property, uncurried. */
function getter<T, R>(proto: object, key: PropertyKey): (self: T) => R {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  const get = descriptor?.get;
  if (get === undefined) throw new Error(`livetrace: built-in accessor ${String(key)} is missing`);
  return uncurryThis(get as (this: T) => R);
}

export const {
  getPrototypeOf: ObjectGetPrototypeOf,
  setPrototypeOf: ObjectSetPrototypeOf,
  getOwnPropertyDescriptor: ObjectGetOwnPropertyDescriptor,
  getOwnPropertySymbols: ObjectGetOwnPropertySymbols,
  keys: ObjectKeys,
  defineProperty: ObjectDefineProperty,
  hasOwn: ObjectHasOwn,
  create: ObjectCreate,
  freeze: ObjectFreeze,
} = Object;
export const ObjectPrototype = Object.prototype;
export const ArrayPrototypePush = uncurryThis(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number) as <T>(
  array: T[],
  ...items: T[]
) => number;

/**
 * Collections a program cannot break: subclasses of the intrinsic Set, Map and WeakMap
 * whose prototypes hold their own copies of the intrinsic methods, taken at load (as
 * Node's primordials SafeSet and SafeMap). A program that replaces `globalThis.Set`, or
 * a method of `Set.prototype`, changes neither what `new SafeSet()` makes nor what its
 * methods do. Iteration uses the copied `Symbol.iterator` and the intrinsic iterators.
 */
function makeSafe<C extends abstract new (...args: never[]) => object>(base: { prototype: object }, safe: C): C {
  const from = base.prototype;
  const to = (safe as unknown as { prototype: object }).prototype;
  for (const key of Reflect.ownKeys(from)) {
    if (key === 'constructor') continue;
    Object.defineProperty(to, key, Object.getOwnPropertyDescriptor(from, key)!);
  }
  Object.freeze(to);
  return Object.freeze(safe);
}
export const SafeSet = makeSafe(Set, class SafeSet<T> extends Set<T> {});
export const SafeMap = makeSafe(Map, class SafeMap<K, V> extends Map<K, V> {});
export const SafeWeakMap = makeSafe(WeakMap, class SafeWeakMap<K extends object, V> extends WeakMap<K, V> {});
export const ReflectOwnKeys = Reflect.ownKeys;
export const ReflectDefineProperty = Reflect.defineProperty;
export const ArrayIsArray = Array.isArray;
export const GlobalObject: object = globalThis;

export const StringPrototypeSlice = uncurryThis(String.prototype.slice as (this: string, start?: number, end?: number) => string);
export const StringPrototypeCharCodeAt = uncurryThis(String.prototype.charCodeAt);
export const StringPrototypeToLowerCase = uncurryThis(String.prototype.toLowerCase);
export const StringPrototypeIncludes = uncurryThis(String.prototype.includes as (this: string, search: string) => boolean);
export const StringPrototypeStartsWith = uncurryThis(String.prototype.startsWith as (this: string, search: string) => boolean);

export const RegExpPrototypeExec = uncurryThis(RegExp.prototype.exec);
/** The built-in `exec` itself, to pin on a RegExp as its own (src/safe/read.ts, hardenRegExp). */
export const RegExpPrototypeExecMethod = RegExp.prototype.exec;
export const RegExpPrototypeGetSource = getter<RegExp, string>(RegExp.prototype, 'source');
/** Flag getters in the order `RegExp.prototype.flags` spells them. */
export const REGEXP_FLAGS: readonly (readonly [string, (re: RegExp) => boolean])[] = [
  ['d', getter(RegExp.prototype, 'hasIndices')],
  ['g', getter(RegExp.prototype, 'global')],
  ['i', getter(RegExp.prototype, 'ignoreCase')],
  ['m', getter(RegExp.prototype, 'multiline')],
  ['s', getter(RegExp.prototype, 'dotAll')],
  ['u', getter(RegExp.prototype, 'unicode')],
  ['v', getter(RegExp.prototype, 'unicodeSets')],
  ['y', getter(RegExp.prototype, 'sticky')],
];

export const MapPrototypeEntries = uncurryThis(Map.prototype.entries as (this: Map<unknown, unknown>) => object);
export const MapPrototypeGetSize = getter<Map<unknown, unknown>, number>(Map.prototype, 'size');
export const MapPrototypeHas = uncurryThis(Map.prototype.has as (this: Map<unknown, unknown>, key: unknown) => boolean);
export const MapPrototypeGet = uncurryThis(Map.prototype.get as (this: Map<unknown, unknown>, key: unknown) => unknown);
export const MapPrototypeClear = uncurryThis(Map.prototype.clear as (this: Map<unknown, unknown>) => void);
export const MapPrototypeSet = uncurryThis(
  Map.prototype.set as (this: Map<unknown, unknown>, key: unknown, value: unknown) => Map<unknown, unknown>,
);
export const MapIteratorPrototypeNext = uncurryThis(
  Object.getPrototypeOf(new Map().entries()).next as (this: object) => { value: [unknown, unknown]; done: boolean },
);
export const SetPrototypeValues = uncurryThis(Set.prototype.values as (this: Set<unknown>) => object);
export const SetPrototypeHas = uncurryThis(Set.prototype.has as (this: Set<unknown>, value: unknown) => boolean);
export const SetPrototypeGetSize = getter<Set<unknown>, number>(Set.prototype, 'size');
export const SetIteratorPrototypeNext = uncurryThis(
  Object.getPrototypeOf(new Set().values()).next as (this: object) => { value: unknown; done: boolean },
);
export const WeakMapPrototypeGet = uncurryThis(WeakMap.prototype.get as (this: WeakMap<object, unknown>, key: object) => unknown);
export const WeakMapPrototypeSet = uncurryThis(
  WeakMap.prototype.set as (this: WeakMap<object, unknown>, key: object, value: unknown) => WeakMap<object, unknown>,
);

export const DatePrototypeGetTime = uncurryThis(Date.prototype.getTime);
export const DatePrototypeToISOString = uncurryThis(Date.prototype.toISOString);

export const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype);
export const TypedArrayPrototypeGetLength = getter<ArrayBufferView, number>(TypedArrayPrototype, 'length');
/** The element type ('Uint8Array', ...), from the internal slot; undefined for a non-typed-array. */
export const TypedArrayPrototypeGetToStringTag = getter<unknown, string | undefined>(TypedArrayPrototype, Symbol.toStringTag);
export const ArrayBufferPrototypeGetByteLength = getter<ArrayBuffer, number>(ArrayBuffer.prototype, 'byteLength');
export const SharedArrayBufferPrototypeGetByteLength = getter<SharedArrayBuffer, number>(SharedArrayBuffer.prototype, 'byteLength');
export const DataViewPrototypeGetBuffer = getter<DataView, ArrayBufferLike>(DataView.prototype, 'buffer');
export const DataViewPrototypeGetByteOffset = getter<DataView, number>(DataView.prototype, 'byteOffset');
export const DataViewPrototypeGetByteLength = getter<DataView, number>(DataView.prototype, 'byteLength');
export const Uint8ArrayConstructor = Uint8Array;

export const NumberPrototypeValueOf = uncurryThis(Number.prototype.valueOf);
export const StringPrototypeValueOf = uncurryThis(String.prototype.valueOf);
export const BooleanPrototypeValueOf = uncurryThis(Boolean.prototype.valueOf);
export const BigIntPrototypeValueOf = uncurryThis(BigInt.prototype.valueOf);
export const BigIntPrototypeToString = uncurryThis(BigInt.prototype.toString as (this: bigint, radix?: number) => string);
export const SymbolPrototypeValueOf = uncurryThis(Symbol.prototype.valueOf);
export const SymbolPrototypeGetDescription = getter<symbol, string | undefined>(Symbol.prototype, 'description');
export const FunctionPrototypeToString = uncurryThis(Function.prototype.toString);

export const ErrorConstructor = Error;
export const ErrorPrototype = Error.prototype;
export const ErrorCaptureStackTrace = Error.captureStackTrace;
/**
 * V8's own `stack` getter, or undefined where `stack` is a data property (Node 20). From
 * V8 12 (Node 22, 24) every error, and every object given a stack by
 * Error.captureStackTrace, has an own `stack` accessor whose getter is this one native
 * function, installed by V8 (it formats the stack lazily); telling it apart from a
 * getter a program defined is a comparison with the one on an error made here.
 */
export const V8StackGetter: Function | undefined = Object.getOwnPropertyDescriptor(new Error(), 'stack')?.get;
export const FunctionPrototypeCall = uncurryThis(Function.prototype.call as (this: Function, self: unknown) => unknown);
/** What `Error.prepareStackTrace` held when the agent loaded (Node's default, normally). */
export const initialPrepareStackTrace: unknown = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace')?.value;

export const {
  isProxy,
  isArgumentsObject,
  isModuleNamespaceObject,
  isMap,
  isSet,
  isWeakMap,
  isWeakSet,
  isDate,
  isRegExp,
  isNativeError,
  isPromise,
  isNumberObject,
  isStringObject,
  isBooleanObject,
  isBigIntObject,
  isSymbolObject,
  isAnyArrayBuffer,
  isSharedArrayBuffer,
  isDataView,
  isTypedArray,
  isAsyncFunction,
  isGeneratorFunction,
} = types;
