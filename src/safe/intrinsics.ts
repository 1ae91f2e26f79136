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
 *
 * "When the agent loads" may be late: an attach loads it into a process whose code has
 * run for hours and may have replaced `Reflect.apply` or `Set.prototype.delete` (a
 * polyfill, an APM agent, a test double). So every function here is checked against
 * the same built-in of a fresh realm (a `vm` context made at load, which no user code
 * has touched): the current one is kept when `Function.prototype.toString` of that
 * fresh realm prints it exactly as it prints its own native twin (a user function, a
 * bound function or a Proxy prints differently); otherwise the fresh realm's is used.
 * Built-in methods of another realm work on this realm's objects (they read internal
 * slots, not the realm), but V8 does not inline calls across realms, hence the
 * preference for the current one when it is genuine. Objects of the fresh realm are
 * never handed out: only its functions, always called with an explicit receiver.
 */
import { runInNewContext } from 'node:vm';
import { types } from 'node:util';

/** The fresh realm's globals this module compares with (nothing else of it is kept). */
interface Realm {
  Object: ObjectConstructor;
  Reflect: typeof Reflect;
  Function: FunctionConstructor;
  Array: ArrayConstructor;
  String: StringConstructor;
  RegExp: RegExpConstructor;
  Map: MapConstructor;
  Set: SetConstructor;
  WeakMap: WeakMapConstructor;
  WeakSet: WeakSetConstructor;
  Date: DateConstructor;
  Promise: PromiseConstructor;
  JSON: JSON;
  Math: Math;
  Number: NumberConstructor;
  Boolean: BooleanConstructor;
  BigInt: BigIntConstructor;
  Symbol: SymbolConstructor;
  Error: ErrorConstructor;
  ArrayBuffer: ArrayBufferConstructor;
  SharedArrayBuffer: SharedArrayBufferConstructor;
  DataView: DataViewConstructor;
  Uint8Array: Uint8ArrayConstructor;
}

function freshRealm(): Realm | undefined {
  try {
    return runInNewContext(
      '({ Object, Reflect, Function, Array, String, RegExp, Map, Set, WeakMap, WeakSet, Date, Promise, JSON, Math, Number, Boolean, BigInt, Symbol, Error, ArrayBuffer, SharedArrayBuffer, DataView, Uint8Array })',
    ) as Realm;
  } catch {
    // No vm (a locked-down process): the current built-ins are all there is.
    return undefined;
  }
}

const realm = freshRealm();
const realmToString = realm?.Function.prototype.toString;
const realmCall = realm?.Function.prototype.call;

/** How the fresh realm prints a function, or undefined when it can't tell. */
function printed(fn: unknown): string | undefined {
  if (realmToString === undefined || realmCall === undefined || typeof fn !== 'function') return undefined;
  try {
    return realmCall.call(realmToString, fn) as string;
  } catch {
    return undefined;
  }
}

/**
 * The current built-in when it is the genuine native one, else the fresh realm's.
 * Without a fresh realm, the current one.
 */
export function pristine<F>(current: F, fresh: F | undefined): F {
  if (fresh === undefined || realm === undefined) return current;
  const expected = printed(fresh);
  return expected !== undefined && printed(current) === expected ? current : fresh;
}

/** True when `fn` is what this module would have chosen anyway (the current built-in was genuine). For tests and stats. */
export function isGenuine(current: unknown, fresh: unknown): boolean {
  return realm === undefined || printed(current) === printed(fresh);
}

/** A property of a fresh-realm object, when there is one. */
function fresh<T>(pick: (r: Realm) => T): T | undefined {
  return realm === undefined ? undefined : pick(realm);
}

type Uncurried<T, A extends unknown[], R> = (self: T, ...args: A) => R;

const BindMethod = pristine(Function.prototype.bind, fresh((r) => r.Function.prototype.bind));
const CallMethod = pristine(Function.prototype.call, fresh((r) => r.Function.prototype.call));

/** `fn.call` with `fn` fixed: `uncurryThis(Map.prototype.get)(map, key)`. */
export const uncurryThis = BindMethod.bind(CallMethod) as <T, A extends unknown[], R>(
  fn: (this: T, ...args: A) => R,
) => Uncurried<T, A, R>;

/** A method of a built-in prototype, pristine and uncurried. */
function method<T, A extends unknown[], R>(current: (this: T, ...args: A) => R, freshOne: ((this: T, ...args: A) => R) | undefined): Uncurried<T, A, R> {
  return uncurryThis(pristine(current, freshOne));
}

/** The getter of a built-in accessor property, pristine and uncurried. */
function getter<T, R>(proto: object, key: PropertyKey, freshProto?: object): (self: T) => R {
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  const freshGet = freshProto === undefined ? undefined : Object.getOwnPropertyDescriptor(freshProto, key)?.get;
  const get = pristine(descriptor?.get, freshGet);
  if (get === undefined) throw new Error(`livetrace: built-in accessor ${String(key)} is missing`);
  return uncurryThis(get as (this: T) => R);
}

const O = Object;
const RO = fresh((r) => r.Object);
export const ObjectGetPrototypeOf = pristine(O.getPrototypeOf, RO?.getPrototypeOf);
export const ObjectSetPrototypeOf = pristine(O.setPrototypeOf, RO?.setPrototypeOf);
export const ObjectGetOwnPropertyDescriptor = pristine(O.getOwnPropertyDescriptor, RO?.getOwnPropertyDescriptor);
export const ObjectGetOwnPropertySymbols = pristine(O.getOwnPropertySymbols, RO?.getOwnPropertySymbols);
export const ObjectKeys = pristine(O.keys, RO?.keys);
export const ObjectDefineProperty = pristine(O.defineProperty, RO?.defineProperty);
export const ObjectHasOwn = pristine(O.hasOwn, RO?.hasOwn);
export const ObjectCreate = pristine(O.create, RO?.create);
export const ObjectFreeze = pristine(O.freeze, RO?.freeze);
export const ObjectIs = pristine(O.is, RO?.is);
export const ObjectPrototype = Object.prototype;
const RR = fresh((r) => r.Reflect);
export const ReflectOwnKeys = pristine(Reflect.ownKeys, RR?.ownKeys);
export const ReflectDefineProperty = pristine(Reflect.defineProperty, RR?.defineProperty);
export const ReflectGetOwnPropertyDescriptor = pristine(Reflect.getOwnPropertyDescriptor, RR?.getOwnPropertyDescriptor);
export const ReflectApply = pristine(Reflect.apply, RR?.apply);
export const ReflectConstruct = pristine(Reflect.construct, RR?.construct);
export const ArrayIsArray = pristine(Array.isArray, fresh((r) => r.Array.isArray));
const RArray = fresh((r) => r.Array.prototype);
/** The genuine `Array.prototype.push` itself: a program that replaced it has `Array.prototype.push !== ArrayPushBuiltin`. */
export const ArrayPushBuiltin = pristine(Array.prototype.push as (this: unknown[], ...items: unknown[]) => number, RArray?.push as never);
export const ArrayPrototypePush = uncurryThis(ArrayPushBuiltin) as <T>(
  array: T[],
  ...items: T[]
) => number;
export const ArrayPrototypeSlice = method(Array.prototype.slice as (this: unknown[], start?: number, end?: number) => unknown[], RArray?.slice as never);
export const ArrayPrototypeIndexOf = method(Array.prototype.indexOf as (this: unknown[], item: unknown) => number, RArray?.indexOf as never);
export const ArrayPrototypeSplice = method(
  Array.prototype.splice as (this: unknown[], start: number, deleteCount: number) => unknown[],
  RArray?.splice as never,
);
export const JSONStringify = pristine(JSON.stringify, fresh((r) => r.JSON.stringify));
export const JSONParse = pristine(JSON.parse, fresh((r) => r.JSON.parse));
export const MathRound = pristine(Math.round, fresh((r) => r.Math.round));
export const MathMin = pristine(Math.min, fresh((r) => r.Math.min));
export const DateNow = pristine(Date.now, fresh((r) => r.Date.now));
export const PromisePrototypeThen = method(
  Promise.prototype.then as (this: Promise<unknown>, ok?: (v: unknown) => unknown, fail?: (e: unknown) => unknown) => Promise<unknown>,
  fresh((r) => r.Promise.prototype.then) as never,
);
export const ObjectPrototypeHasOwnProperty = method(
  Object.prototype.hasOwnProperty as (this: unknown, key: PropertyKey) => boolean,
  RO?.prototype.hasOwnProperty as never,
);

/**
 * Collections a program cannot break: subclasses of the intrinsic Set, Map and WeakMap
 * whose prototypes hold their own copies of the intrinsic methods, taken at load (as
 * Node's primordials SafeSet and SafeMap), each the genuine one or else the fresh
 * realm's (built-in methods work on any realm's collections). A program that replaces
 * `globalThis.Set`, or a method of `Set.prototype`, changes neither what `new SafeSet()`
 * makes nor what its methods do. Iteration uses the copied `Symbol.iterator` and the
 * intrinsic iterators.
 */
function makeSafe<C extends abstract new (...args: never[]) => object>(base: { prototype: object }, freshBase: { prototype: object } | undefined, safe: C): C {
  const from = base.prototype;
  const to = (safe as unknown as { prototype: object }).prototype;
  for (const key of Reflect.ownKeys(from)) {
    if (key === 'constructor') continue;
    const descriptor = Object.getOwnPropertyDescriptor(from, key)!;
    const freshDescriptor = freshBase === undefined ? undefined : Object.getOwnPropertyDescriptor(freshBase.prototype, key);
    if (typeof descriptor.value === 'function') descriptor.value = pristine(descriptor.value, freshDescriptor?.value as unknown);
    else if (descriptor.get !== undefined) descriptor.get = pristine(descriptor.get, freshDescriptor?.get);
    Object.defineProperty(to, key, descriptor);
  }
  Object.freeze(to);
  return Object.freeze(safe);
}
export const SafeSet = makeSafe(Set, fresh((r) => r.Set), class SafeSet<T> extends Set<T> {});
export const SafeMap = makeSafe(Map, fresh((r) => r.Map), class SafeMap<K, V> extends Map<K, V> {});
export const SafeWeakMap = makeSafe(WeakMap, fresh((r) => r.WeakMap), class SafeWeakMap<K extends object, V> extends WeakMap<K, V> {});
export const GlobalObject: object = globalThis;

export const StringPrototypeSlice = method(String.prototype.slice as (this: string, start?: number, end?: number) => string, fresh((r) => r.String.prototype.slice) as never);
export const StringPrototypeCharCodeAt = method(String.prototype.charCodeAt, fresh((r) => r.String.prototype.charCodeAt) as never);
export const StringPrototypeToLowerCase = method(String.prototype.toLowerCase, fresh((r) => r.String.prototype.toLowerCase) as never);
export const StringPrototypeIncludes = method(String.prototype.includes as (this: string, search: string) => boolean, fresh((r) => r.String.prototype.includes) as never);
export const StringPrototypeStartsWith = method(String.prototype.startsWith as (this: string, search: string) => boolean, fresh((r) => r.String.prototype.startsWith) as never);

export const RegExpPrototypeExec = method(RegExp.prototype.exec, fresh((r) => r.RegExp.prototype.exec) as never);
/** The built-in `exec` itself, to pin on a RegExp as its own (src/safe/read.ts, hardenRegExp). */
export const RegExpPrototypeExecMethod = pristine(RegExp.prototype.exec, fresh((r) => r.RegExp.prototype.exec));
export const RegExpPrototypeGetSource = getter<RegExp, string>(RegExp.prototype, 'source', fresh((r) => r.RegExp.prototype));
/** Flag getters in the order `RegExp.prototype.flags` spells them. */
export const REGEXP_FLAGS: readonly (readonly [string, (re: RegExp) => boolean])[] = [
  ['d', getter(RegExp.prototype, 'hasIndices', fresh((r) => r.RegExp.prototype))],
  ['g', getter(RegExp.prototype, 'global', fresh((r) => r.RegExp.prototype))],
  ['i', getter(RegExp.prototype, 'ignoreCase', fresh((r) => r.RegExp.prototype))],
  ['m', getter(RegExp.prototype, 'multiline', fresh((r) => r.RegExp.prototype))],
  ['s', getter(RegExp.prototype, 'dotAll', fresh((r) => r.RegExp.prototype))],
  ['u', getter(RegExp.prototype, 'unicode', fresh((r) => r.RegExp.prototype))],
  ['v', getter(RegExp.prototype, 'unicodeSets', fresh((r) => r.RegExp.prototype))],
  ['y', getter(RegExp.prototype, 'sticky', fresh((r) => r.RegExp.prototype))],
];

export const MapPrototypeEntries = method(Map.prototype.entries as (this: Map<unknown, unknown>) => object, fresh((r) => r.Map.prototype.entries) as never);
export const MapPrototypeGetSize = getter<Map<unknown, unknown>, number>(Map.prototype, 'size', fresh((r) => r.Map.prototype));
export const MapPrototypeHas = method(Map.prototype.has as (this: Map<unknown, unknown>, key: unknown) => boolean, fresh((r) => r.Map.prototype.has) as never);
export const MapPrototypeGet = method(Map.prototype.get as (this: Map<unknown, unknown>, key: unknown) => unknown, fresh((r) => r.Map.prototype.get) as never);
export const MapPrototypeClear = method(Map.prototype.clear as (this: Map<unknown, unknown>) => void, fresh((r) => r.Map.prototype.clear) as never);
export const MapPrototypeSet = method(
  Map.prototype.set as (this: Map<unknown, unknown>, key: unknown, value: unknown) => Map<unknown, unknown>,
  fresh((r) => r.Map.prototype.set) as never);
export const MapIteratorPrototypeNext = method(
  Object.getPrototypeOf(new Map().entries()).next as (this: object) => { value: [unknown, unknown]; done: boolean },
  fresh((r) => r.Object.getPrototypeOf(new r.Map().entries()).next) as never);
export const SetPrototypeValues = method(Set.prototype.values as (this: Set<unknown>) => object, fresh((r) => r.Set.prototype.values) as never);
export const SetPrototypeHas = method(Set.prototype.has as (this: Set<unknown>, value: unknown) => boolean, fresh((r) => r.Set.prototype.has) as never);
export const SetPrototypeAdd = method(Set.prototype.add as (this: Set<unknown>, value: unknown) => Set<unknown>, fresh((r) => r.Set.prototype.add) as never);
export const SetPrototypeDelete = method(Set.prototype.delete as (this: Set<unknown>, value: unknown) => boolean, fresh((r) => r.Set.prototype.delete) as never);
export const MapPrototypeDelete = method(Map.prototype.delete as (this: Map<unknown, unknown>, key: unknown) => boolean, fresh((r) => r.Map.prototype.delete) as never);
export const WeakMapPrototypeHas = method(WeakMap.prototype.has as (this: WeakMap<object, unknown>, key: object) => boolean, fresh((r) => r.WeakMap.prototype.has) as never);
export const WeakMapPrototypeDelete = method(WeakMap.prototype.delete as (this: WeakMap<object, unknown>, key: object) => boolean, fresh((r) => r.WeakMap.prototype.delete) as never);
export const SetPrototypeGetSize = getter<Set<unknown>, number>(Set.prototype, 'size', fresh((r) => r.Set.prototype));
export const SetIteratorPrototypeNext = method(
  Object.getPrototypeOf(new Set().values()).next as (this: object) => { value: unknown; done: boolean },
  fresh((r) => r.Object.getPrototypeOf(new r.Set().values()).next) as never);
export const WeakMapPrototypeGet = method(WeakMap.prototype.get as (this: WeakMap<object, unknown>, key: object) => unknown, fresh((r) => r.WeakMap.prototype.get) as never);
export const WeakMapPrototypeSet = method(
  WeakMap.prototype.set as (this: WeakMap<object, unknown>, key: object, value: unknown) => WeakMap<object, unknown>,
  fresh((r) => r.WeakMap.prototype.set) as never);

export const DatePrototypeGetTime = method(Date.prototype.getTime, fresh((r) => r.Date.prototype.getTime) as never);
export const DatePrototypeToISOString = method(Date.prototype.toISOString, fresh((r) => r.Date.prototype.toISOString) as never);

export const TypedArrayPrototype: object = Object.getPrototypeOf(Uint8Array.prototype);
export const TypedArrayPrototypeGetLength = getter<ArrayBufferView, number>(TypedArrayPrototype, 'length', fresh((r) => r.Object.getPrototypeOf(r.Uint8Array.prototype)));
/** The element type ('Uint8Array', ...), from the internal slot; undefined for a non-typed-array. */
export const TypedArrayPrototypeGetToStringTag = getter<unknown, string | undefined>(TypedArrayPrototype, Symbol.toStringTag, fresh((r) => r.Object.getPrototypeOf(r.Uint8Array.prototype)));
export const ArrayBufferPrototypeGetByteLength = getter<ArrayBuffer, number>(ArrayBuffer.prototype, 'byteLength', fresh((r) => r.ArrayBuffer.prototype));
export const SharedArrayBufferPrototypeGetByteLength = getter<SharedArrayBuffer, number>(SharedArrayBuffer.prototype, 'byteLength', fresh((r) => r.SharedArrayBuffer.prototype));
export const DataViewPrototypeGetBuffer = getter<DataView, ArrayBufferLike>(DataView.prototype, 'buffer', fresh((r) => r.DataView.prototype));
export const DataViewPrototypeGetByteOffset = getter<DataView, number>(DataView.prototype, 'byteOffset', fresh((r) => r.DataView.prototype));
export const DataViewPrototypeGetByteLength = getter<DataView, number>(DataView.prototype, 'byteLength', fresh((r) => r.DataView.prototype));
export const Uint8ArrayConstructor = Uint8Array;

export const NumberPrototypeValueOf = method(Number.prototype.valueOf, fresh((r) => r.Number.prototype.valueOf) as never);
export const StringPrototypeValueOf = method(String.prototype.valueOf, fresh((r) => r.String.prototype.valueOf) as never);
export const BooleanPrototypeValueOf = method(Boolean.prototype.valueOf, fresh((r) => r.Boolean.prototype.valueOf) as never);
export const BigIntPrototypeValueOf = method(BigInt.prototype.valueOf, fresh((r) => r.BigInt.prototype.valueOf) as never);
export const BigIntPrototypeToString = method(BigInt.prototype.toString as (this: bigint, radix?: number) => string, fresh((r) => r.BigInt.prototype.toString) as never);
export const SymbolPrototypeValueOf = method(Symbol.prototype.valueOf, fresh((r) => r.Symbol.prototype.valueOf) as never);
export const SymbolPrototypeGetDescription = getter<symbol, string | undefined>(Symbol.prototype, 'description', fresh((r) => r.Symbol.prototype));
export const FunctionPrototypeToString = method(Function.prototype.toString, fresh((r) => r.Function.prototype.toString) as never);

export const ErrorConstructor = Error;
export const ErrorPrototype = Error.prototype;
export const ErrorCaptureStackTrace = pristine(Error.captureStackTrace, fresh((r) => r.Error.captureStackTrace));
/**
 * V8's own `stack` getter, or undefined where `stack` is a data property (Node 20). From
 * V8 12 (Node 22, 24) every error, and every object given a stack by
 * Error.captureStackTrace, has an own `stack` accessor whose getter is this one native
 * function, installed by V8 (it formats the stack lazily); telling it apart from a
 * getter a program defined is a comparison with the one on an error made here.
 */
export const V8StackGetter: Function | undefined = Object.getOwnPropertyDescriptor(new Error(), 'stack')?.get;
export const FunctionPrototypeCall = uncurryThis(CallMethod as (this: Function, self: unknown) => unknown);
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
