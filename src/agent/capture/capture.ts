/**
 * Bounded, safe snapshots of the values a traced call sees (arguments, `this`, the
 * return value or the thrown one), in the JSON form of src/protocol/value.ts.
 *
 * The capturer runs inside the user's process, in the middle of the user's call, so it
 * holds itself to four rules:
 *
 * 1. It never runs user code. Properties are read through their descriptors, so a getter
 *    is reported as `{"$":"getter"}` and never called. `util.types.isProxy` comes before
 *    anything else touches an object, and a Proxy is reported as `{"$":"proxy"}`, never
 *    opened (nor is a prototype chain followed past one). No `toString`, `valueOf`,
 *    `toJSON`, `Symbol.toPrimitive` or `util.inspect.custom` is consulted; Map and Set
 *    contents come from the built-in iterators taken at load (src/safe/intrinsics.ts),
 *    so a replaced `Map.prototype.entries` is never called. Class names come from
 *    `constructor.name` read as data properties only. An error's `stack` is read only
 *    when formatting it cannot call a user `Error.prepareStackTrace` or a getter.
 * 2. It is bounded: depth, items per collection, fields per object, characters per
 *    string, and an approximate byte budget shared by everything captured between
 *    `begin()` and `end()`. Hitting any of them sets `truncated`. Once the budget is
 *    spent, containers still say what they are and how big they were, but hold nothing.
 * 3. It copies. The result holds no reference to a user object, and a cut string is
 *    copied out of its parent (V8 would otherwise keep a 10 MB parent alive behind a
 *    255-character slice for as long as the event is queued).
 * 4. It never throws. A read that fails (a module binding in its TDZ, a stack overflow
 *    in a deeply recursive caller) becomes `{"$":"unreadable"}` and the rest goes on.
 *
 * It is also on the hot path of every reported call, so plain objects and arrays take a
 * short road, class instances are classified once per prototype (a WeakMap from
 * prototype to kind and class name), and markers without payload are shared frozen
 * objects.
 */
import { Buffer } from 'node:buffer';
import type {
  ArgumentsValue,
  BigIntValue,
  DepthValue,
  ErrorValue,
  FunctionKind,
  FunctionValue,
  InstanceValue,
  MapValue,
  MarkerValue,
  ObjectValue,
  SetValue,
  SpecialNumberValue,
  StringValue,
  TypedArrayValue,
  Value,
} from '../../protocol/value.js';
import { LivetraceError } from '../../protocol/errors.js';
import {
  ArrayBufferPrototypeGetByteLength,
  ArrayIsArray,
  BigIntPrototypeToString,
  BigIntPrototypeValueOf,
  BooleanPrototypeValueOf,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  DatePrototypeGetTime,
  DatePrototypeToISOString,
  ErrorConstructor,
  ErrorPrototype,
  FunctionPrototypeToString,
  GlobalObject,
  MapIteratorPrototypeNext,
  MapPrototypeEntries,
  MapPrototypeGet,
  MapPrototypeGetSize,
  NumberPrototypeValueOf,
  ObjectCreate,
  ObjectDefineProperty,
  ObjectFreeze,
  ObjectGetOwnPropertyDescriptor,
  ObjectGetPrototypeOf,
  ObjectHasOwn,
  ObjectKeys,
  ObjectPrototype,
  REGEXP_FLAGS,
  ReflectOwnKeys,
  RegExpPrototypeGetSource,
  SetIteratorPrototypeNext,
  SetPrototypeGetSize,
  SetPrototypeValues,
  SharedArrayBufferPrototypeGetByteLength,
  StringPrototypeCharCodeAt,
  StringPrototypeSlice,
  StringPrototypeStartsWith,
  StringPrototypeValueOf,
  SymbolPrototypeGetDescription,
  SymbolPrototypeValueOf,
  TypedArrayPrototype,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetToStringTag,
  Uint8ArrayConstructor,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  initialPrepareStackTrace,
  isAnyArrayBuffer,
  isArgumentsObject,
  isAsyncFunction,
  isBigIntObject,
  isBooleanObject,
  isDataView,
  isDate,
  isGeneratorFunction,
  isMap,
  isModuleNamespaceObject,
  isNativeError,
  isNumberObject,
  isPromise,
  isProxy,
  isRegExp,
  isSet,
  isSharedArrayBuffer,
  isStringObject,
  isSymbolObject,
  isTypedArray,
  isWeakMap,
  isWeakSet,
} from '../../safe/intrinsics.js';
import { Redactor } from './redaction.js';
import { CLEAN, REDACTED_TEXT, WHOLE, scrub, valueRules, type ValueRules } from './secrets.js';
import type { ArgumentRedaction } from './argument-redaction.js';

export interface CaptureOptions {
  /** Nesting levels expanded below a captured value (as util.inspect's depth). Default 3, at most 100. */
  depth?: number;
  /** Elements per array, Map, Set, typed array; bytes per Buffer. Default 100. */
  items?: number;
  /** Fields per object. Default 20. */
  fields?: number;
  /** Characters (UTF-16 code units) per string. Default 255. */
  stringLimit?: number;
  /** Approximate JSON bytes for everything captured between begin() and end(). Default 8192. */
  eventBytes?: number;
  /** Keys to redact besides the defaults: exact names or `*`/`?` globs (src/agent/capture/redaction.ts). */
  redact?: readonly string[];
  /** Value rules (src/agent/capture/secrets.ts) turned off, or 'all'. */
  keepValues?: readonly string[];
}

export interface CaptureLimits {
  depth: number;
  items: number;
  fields: number;
  stringLimit: number;
  eventBytes: number;
  redact: readonly string[];
  keepValues: readonly string[];
}

export const DEFAULT_CAPTURE_LIMITS: Readonly<CaptureLimits> = ObjectFreeze({
  depth: 3,
  items: 100,
  fields: 20,
  stringLimit: 255,
  eventBytes: 8192,
  redact: ObjectFreeze([]) as readonly string[],
  keepValues: ObjectFreeze([]) as readonly string[],
});

/** Deeper than this, recursion itself could exhaust the stack of a deeply recursive caller. */
export const MAX_CAPTURE_DEPTH = 100;

export interface CaptureResult {
  /** Some value was cut by a limit since begin(). */
  truncated: boolean;
  /** Estimated JSON size of what was captured since begin(). */
  bytes: number;
}

export interface Captured extends CaptureResult {
  value: Value;
}

// Shared markers: frozen, so a consumer cannot change one event by editing another.
const UNDEFINED: Value = ObjectFreeze({ $: 'undefined' });
const NAN: SpecialNumberValue = ObjectFreeze({ $: 'number', value: 'NaN' });
const INFINITY: SpecialNumberValue = ObjectFreeze({ $: 'number', value: 'Infinity' });
const NEGATIVE_INFINITY: SpecialNumberValue = ObjectFreeze({ $: 'number', value: '-Infinity' });
const NEGATIVE_ZERO: SpecialNumberValue = ObjectFreeze({ $: 'number', value: '-0' });
const marker = (kind: MarkerValue['$']): MarkerValue => ObjectFreeze({ $: kind });
const PROXY = marker('proxy');
const CIRCULAR = marker('circular');
const REDACTED = marker('redacted');
const UNREADABLE = marker('unreadable');
const PROMISE = marker('promise');
const GLOBAL = marker('global');
const WEAKMAP = marker('weakmap');
const WEAKSET = marker('weakset');
const GETTER: Value = ObjectFreeze({ $: 'getter' });
const GETTER_SETTER: Value = ObjectFreeze({ $: 'getter', set: true });
const SETTER: Value = ObjectFreeze({ $: 'setter' });
const DEPTH_OBJECT: DepthValue = ObjectFreeze({ $: 'depth', class: 'Object' });
const DEPTH_ARRAY: DepthValue = ObjectFreeze({ $: 'depth', class: 'Array' });
const DEPTH_NULL_PROTOTYPE: DepthValue = ObjectFreeze({ $: 'depth', class: null });

// Rough JSON sizes charged to the byte budget: `{"$":"undefined"}` and the like.
const MARKER_BYTES = 16;
const NUMBER_BYTES = 8;
const TAG_BYTES = 24;
const KEY_OVERHEAD = 4;

// V8 shares the characters of a substring of 13 or more with its parent string.
const SLICED_STRING_MIN_LENGTH = 13;

// How far past the string limit a string is scanned for secrets (secrets.ts).
const SECRET_WINDOW = 512;

/** A copy of `s` that shares no storage with any other string. */
function detach(s: string): string {
  if (s.length < SLICED_STRING_MIN_LENGTH) return s;
  // The concatenation is flattened into a fresh string by the slice; its own slice
  // then points into that copy, not into the user's string.
  return StringPrototypeSlice(` ${s}`, 1);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** What a prototype chain says an object is; confirmed per object with util.types. */
type Kind =
  | 'ordinary'
  | 'foreign'
  | 'map'
  | 'set'
  | 'weakmap'
  | 'weakset'
  | 'date'
  | 'regexp'
  | 'error'
  | 'promise'
  | 'arraybuffer'
  | 'dataview'
  | 'typedarray'
  | 'buffer'
  | 'boxed';

interface ProtoInfo {
  readonly kind: Kind;
  /** Name of the nearest constructor up the chain ('' when none could be read safely). */
  readonly className: string;
  /** The prototype is some realm's Object.prototype: instances are plain objects. */
  readonly plain: boolean;
}

const INTRINSIC_KINDS = new Map<object, Kind>([
  [Map.prototype, 'map'],
  [Set.prototype, 'set'],
  [WeakMap.prototype, 'weakmap'],
  [WeakSet.prototype, 'weakset'],
  [Date.prototype, 'date'],
  [RegExp.prototype, 'regexp'],
  [ErrorPrototype, 'error'],
  [Promise.prototype, 'promise'],
  [ArrayBuffer.prototype, 'arraybuffer'],
  [SharedArrayBuffer.prototype, 'arraybuffer'],
  [DataView.prototype, 'dataview'],
  [Buffer.prototype, 'buffer'],
  [TypedArrayPrototype, 'typedarray'],
  [Number.prototype, 'boxed'],
  [String.prototype, 'boxed'],
  [Boolean.prototype, 'boxed'],
  [BigInt.prototype, 'boxed'],
  [Symbol.prototype, 'boxed'],
]);

// Prototypes are few and shared by many instances; classifying one walks its chain with
// a Proxy check and two descriptor reads per step, so the answer is kept. A chain
// edited after the fact can at worst yield a stale class name or a less specific kind
// (the kind is always confirmed on the object itself), never a user-code call.
const protoInfos = new WeakMap<object, ProtoInfo>();
const MAX_CHAIN = 64;

function protoInfo(proto: object): ProtoInfo {
  let info = WeakMapPrototypeGet(protoInfos, proto) as ProtoInfo | undefined;
  if (info === undefined) {
    info = classify(proto);
    WeakMapPrototypeSet(protoInfos, proto, info);
  }
  return info;
}

function classify(proto: object): ProtoInfo {
  let kind: Kind | undefined;
  let className = '';
  let rooted = false;
  let steps = 0;
  let last: object = proto;
  for (let p: object | null = proto; p !== null && steps < MAX_CHAIN; steps++) {
    // Nothing past a Proxy can be read without running its traps.
    if (isProxy(p)) break;
    if (p === ObjectPrototype) {
      rooted = true;
      break;
    }
    if (kind === undefined) kind = MapPrototypeGet(INTRINSIC_KINDS, p) as Kind | undefined;
    if (className === '') className = constructorName(p);
    last = p;
    p = ObjectGetPrototypeOf(p);
  }
  // Another realm's Object.prototype: its chain ends right after it, and it names Object.
  const plain = !rooted && steps === 1 && last === proto && className === 'Object' && ObjectGetPrototypeOf(proto) === null;
  return { kind: kind ?? (rooted ? 'ordinary' : 'foreign'), className, plain };
}

/** `p.constructor.name`, through data properties only; '' when that is not possible. */
function constructorName(p: object): string {
  const constructor = ObjectGetOwnPropertyDescriptor(p, 'constructor');
  if (constructor === undefined || !ObjectHasOwn(constructor, 'value')) return '';
  const fn: unknown = constructor.value;
  if (typeof fn !== 'function' || isProxy(fn)) return '';
  const name = ObjectGetOwnPropertyDescriptor(fn, 'name');
  if (name === undefined || !ObjectHasOwn(name, 'value')) return '';
  return typeof name.value === 'string' ? name.value : '';
}

function accessor(descriptor: PropertyDescriptor): Value {
  // An accessor descriptor always has own `get` and `set`: reading them calls nothing.
  if (descriptor.get === undefined) return SETTER;
  return descriptor.set === undefined ? GETTER : GETTER_SETTER;
}

/** Error fields shown in their own slots of the error form, so left out of its props. */
const ERROR_OWN_FIELDS = ObjectCreate(null) as Record<string, true>;
for (const key of ['name', 'message', 'stack', 'cause', 'errors']) ERROR_OWN_FIELDS[key] = true;

const HEX = (() => {
  const table: string[] = [];
  for (let i = 0; i < 256; i++) table.push(i.toString(16).padStart(2, '0'));
  return table;
})();

function checkLimit(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new LivetraceError('LT_OPTION_INVALID', `capture ${name} must be an integer from 0 to ${max}, got ${String(value)}`, {
      input: value,
    });
  }
  return value;
}

export function resolveCaptureLimits(options: CaptureOptions = {}): CaptureLimits {
  const d = DEFAULT_CAPTURE_LIMITS;
  return {
    depth: checkLimit('depth', options.depth, d.depth, MAX_CAPTURE_DEPTH),
    items: checkLimit('items', options.items, d.items),
    fields: checkLimit('fields', options.fields, d.fields),
    stringLimit: checkLimit('stringLimit', options.stringLimit, d.stringLimit),
    eventBytes: checkLimit('eventBytes', options.eventBytes, d.eventBytes),
    redact: options.redact === undefined ? d.redact : ObjectFreeze([...options.redact]),
    keepValues: options.keepValues === undefined ? d.keepValues : ObjectFreeze([...options.keepValues]),
  };
}

/**
 * Captures values under one set of limits; build one per session. Between `begin()` and
 * `end()` every `value()` / `values()` shares one byte budget (each call may still use
 * at least 1/16 of it, so a large first argument cannot leave `this` with nothing).
 */
export class Capturer {
  readonly limits: Readonly<CaptureLimits>;
  /** Decides keys; also read to decide parameter names (argument-redaction.ts). */
  readonly redactor: Redactor;
  private readonly rules: ValueRules;
  /** While one argument is captured: keys its destructuring parameter binds to a secret name. */
  private argumentKeys: Readonly<Record<string, true>> | undefined;
  private readonly depth: number;
  private readonly items: number;
  private readonly fieldLimit: number;
  private readonly stringLimit: number;
  private readonly floor: number;
  /** 10^stringLimit (at most 10^1024): a bigint this large or larger is cut from its hex form. */
  private readonly hugeBigInt: bigint;
  private budget: number;
  private used = 0;
  private truncated = false;
  private walking = false;
  /** The objects being expanded, outermost first: a value met again here is a cycle. */
  private readonly path: (object | null)[];
  private pathLength = 0;
  // Results of fields() besides its return value, read right after it returns.
  private lastMore = 0;
  private lastDollar = false;

  constructor(options: CaptureOptions = {}) {
    const limits = resolveCaptureLimits(options);
    this.limits = ObjectFreeze(limits);
    this.redactor = new Redactor(limits.redact);
    this.rules = valueRules(limits.keepValues);
    this.depth = limits.depth;
    this.items = limits.items;
    this.fieldLimit = limits.fields;
    this.stringLimit = limits.stringLimit;
    this.floor = Math.floor(limits.eventBytes / 16);
    // Capped so that a huge string limit cannot make this power itself expensive.
    this.hugeBigInt = 10n ** BigInt(Math.min(limits.stringLimit, 1024));
    this.budget = limits.eventBytes;
    this.path = new Array<object | null>(limits.depth + 2).fill(null);
  }

  /** Starts an event: a fresh byte budget and `truncated` false. */
  begin(): void {
    this.budget = this.limits.eventBytes;
    this.used = 0;
    this.truncated = false;
  }

  /** Captures one value (a return value, a thrown value, `this`). */
  value(value: unknown): Value {
    if (this.walking) return UNREADABLE;
    this.walking = true;
    const start = this.budget < this.floor ? this.floor : this.budget;
    this.budget = start;
    try {
      return this.walk(value, 0);
    } catch {
      return UNREADABLE;
    } finally {
      this.release();
      this.used += start - this.budget;
    }
  }

  /**
   * Captures an argument list: each argument at the top level, at most `items` of them.
   * `redaction`: what the function's parameter names say to hide (argument-redaction.ts).
   */
  values(list: ArrayLike<unknown>, redaction?: ArgumentRedaction): Value[] {
    const out: Value[] = [];
    if (this.walking) return out;
    this.walking = true;
    const start = this.budget < this.floor ? this.floor : this.budget;
    this.budget = start;
    try {
      const n = list.length;
      const limit = n < this.items ? n : this.items;
      if (redaction === undefined) for (let i = 0; i < limit; i++) out[i] = this.top(list[i]);
      else for (let i = 0; i < limit; i++) out[i] = this.argument(list, i, redaction);
      if (n > limit) {
        this.truncated = true;
        out[limit] = { $: 'more', count: n - limit };
      }
    } catch {
      // `list` itself misbehaved (an arguments object cannot; a foreign array-like could).
      out[out.length] = UNREADABLE;
    } finally {
      this.release();
      this.used += start - this.budget;
    }
    return out;
  }

  /** Ends the event begun by begin(). */
  end(): CaptureResult {
    const result = { truncated: this.truncated, bytes: this.used };
    this.begin();
    return result;
  }

  /** One value as its own event. */
  capture(value: unknown): Captured {
    this.begin();
    const captured = this.value(value);
    const result = this.end();
    return { value: captured, truncated: result.truncated, bytes: result.bytes };
  }

  private argument(list: ArrayLike<unknown>, i: number, redaction: ArgumentRedaction): Value {
    if (i >= redaction.restFrom || redaction.whole[i] === true) return this.mark(REDACTED);
    this.argumentKeys = redaction.keys[i];
    try {
      return this.top(list[i]);
    } finally {
      this.argumentKeys = undefined;
    }
  }

  /** A key whose value is not captured: by the redaction list, or by the current argument's parameter. */
  private redacts(key: string): boolean {
    return this.redactor.matches(key) || (this.argumentKeys !== undefined && this.argumentKeys[key] === true);
  }

  private top(value: unknown): Value {
    try {
      return this.walk(value, 0);
    } catch {
      this.clearPath();
      return UNREADABLE;
    }
  }

  private release(): void {
    this.clearPath();
    this.walking = false;
  }

  private clearPath(): void {
    const path = this.path;
    for (let i = 0; i < this.pathLength; i++) path[i] = null;
    this.pathLength = 0;
  }

  private walk(value: unknown, level: number): Value {
    switch (typeof value) {
      case 'number':
        this.budget -= NUMBER_BYTES;
        if (value - value === 0) return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value;
        return value !== value ? NAN : value > 0 ? INFINITY : NEGATIVE_INFINITY;
      case 'string':
        return this.string(value, this.stringLimit);
      case 'boolean':
        this.budget -= 5;
        return value;
      case 'undefined':
        this.budget -= MARKER_BYTES;
        return UNDEFINED;
      case 'object':
        if (value === null) {
          this.budget -= 4;
          return null;
        }
        return this.object(value, level);
      case 'function':
        return this.object(value, level);
      case 'bigint':
        return this.bigint(value);
      case 'symbol':
        return this.symbol(value);
      default:
        return UNREADABLE;
    }
  }

  private string(s: string, limit: number): StringValue | MarkerValue {
    // The scan reaches a little past the cut, so a secret the cut splits is still seen whole.
    const window = limit + SECRET_WINDOW;
    const scanned = s.length > window ? StringPrototypeSlice(s, 0, window) : s;
    const found = scrub(scanned, this.rules);
    if (found === WHOLE) return this.mark(REDACTED);
    if (found === CLEAN) return this.cut(s, limit, s.length);
    return this.cut(scanned === s ? found : `${found}${StringPrototypeSlice(s, window)}`, limit, s.length);
  }

  /** A string that must stay a string (an error's stack): a whole secret becomes '<redacted>'. */
  private text(s: string, limit: number): StringValue {
    const window = limit + SECRET_WINDOW;
    const found = scrub(s.length > window ? StringPrototypeSlice(s, 0, window) : s, this.rules);
    if (found === WHOLE) return this.cut(REDACTED_TEXT, limit, REDACTED_TEXT.length);
    return found === CLEAN ? this.cut(s, limit, s.length) : this.cut(found, limit, found.length);
  }

  /**
   * `s` cut to `limit` and the budget. `originalLength`: the length reported when cut (a
   * scrubbed string reports the length of the string it stands for).
   */
  private cut(s: string, limit: number, originalLength: number): StringValue {
    const length = s.length;
    const room = this.budget - 2;
    if (length <= limit && length <= room) {
      this.budget -= length + 2;
      return detach(s);
    }
    let keep = limit < room ? limit : room > 0 ? room : 0;
    if (keep > 0 && isHighSurrogate(StringPrototypeCharCodeAt(s, keep - 1))) keep--;
    this.truncated = true;
    this.budget -= keep + TAG_BYTES;
    return { $: 'string', value: detach(StringPrototypeSlice(s, 0, keep)), length: originalLength };
  }

  /** A name (class, function, symbol key): always a plain string, cut with '…'. */
  private name(s: string): string {
    if (s.length <= this.stringLimit) return s;
    this.truncated = true;
    let keep = this.stringLimit;
    if (keep > 0 && isHighSurrogate(StringPrototypeCharCodeAt(s, keep - 1))) keep--;
    return `${detach(StringPrototypeSlice(s, 0, keep))}…`;
  }

  private bigint(value: bigint): BigIntValue {
    if (value < this.hugeBigInt && value > -this.hugeBigInt) {
      const digits = `${value}`;
      this.budget -= digits.length + TAG_BYTES;
      return { $: 'bigint', value: digits };
    }
    // Decimal conversion of a huge bigint is superlinear; hex is linear and cut the same.
    const negative = value < 0n;
    const hex = BigIntPrototypeToString(negative ? -value : value, 16);
    this.truncated = true;
    this.budget -= this.stringLimit + TAG_BYTES;
    return { $: 'bigint', value: `${negative ? '-' : ''}0x${StringPrototypeSlice(hex, 0, this.stringLimit)}`, length: hex.length };
  }

  private symbol(value: symbol): Value {
    const description = SymbolPrototypeGetDescription(value);
    this.budget -= TAG_BYTES;
    return description === undefined ? { $: 'symbol' } : { $: 'symbol', description: this.cut(description, this.stringLimit, description.length) };
  }

  private object(value: object, level: number): Value {
    if (isProxy(value)) {
      this.budget -= MARKER_BYTES;
      return PROXY;
    }
    const path = this.path;
    for (let i = 0; i < this.pathLength; i++) {
      if (path[i] === value) {
        this.budget -= MARKER_BYTES;
        return CIRCULAR;
      }
    }
    if (typeof value === 'function') return this.fn(value);
    const proto = ArrayIsArray(value) ? undefined : ObjectGetPrototypeOf(value);
    if (level > this.depth) {
      this.truncated = true;
      this.budget -= TAG_BYTES;
      return this.depthMarker(proto);
    }
    path[this.pathLength++] = value;
    try {
      return this.expand(value, proto, level);
    } catch {
      return UNREADABLE;
    } finally {
      path[--this.pathLength] = null;
    }
  }

  private depthMarker(proto: object | null | undefined): DepthValue {
    if (proto === undefined) return DEPTH_ARRAY;
    if (proto === ObjectPrototype) return DEPTH_OBJECT;
    if (proto === null) return DEPTH_NULL_PROTOTYPE;
    const info = protoInfo(proto);
    return info.plain || info.className === '' ? DEPTH_OBJECT : { $: 'depth', class: this.name(info.className) };
  }

  /** `proto` is undefined for an array. */
  private expand(value: object, proto: object | null | undefined, level: number): Value {
    if (proto === undefined) return this.array(value as unknown[], level);
    if (proto === ObjectPrototype) return this.plain(value, level);
    if (proto === null) {
      return isModuleNamespaceObject(value) ? this.namespace(value, level) : this.instance(value, null, level);
    }
    if (value === GlobalObject) {
      this.budget -= MARKER_BYTES;
      return GLOBAL;
    }
    const info = protoInfo(proto);
    switch (info.kind) {
      case 'ordinary':
        return this.instance(value, info.className, level);
      case 'map':
        if (isMap(value)) return this.map(value, info, level);
        break;
      case 'set':
        if (isSet(value)) return this.set(value, info, level);
        break;
      case 'weakmap':
        if (isWeakMap(value)) return this.mark(WEAKMAP);
        break;
      case 'weakset':
        if (isWeakSet(value)) return this.mark(WEAKSET);
        break;
      case 'date':
        if (isDate(value)) return this.date(value);
        break;
      case 'regexp':
        if (isRegExp(value)) return this.regexp(value);
        break;
      case 'error':
        // Old-style subclasses (prototype chained to Error.prototype, no super call) count too.
        return this.error(value, info, level);
      case 'promise':
        if (isPromise(value)) return this.mark(PROMISE);
        break;
      case 'arraybuffer':
        if (isAnyArrayBuffer(value)) return this.arrayBuffer(value);
        break;
      case 'dataview':
        if (isDataView(value)) return this.dataView(value);
        break;
      case 'typedarray':
        if (isTypedArray(value)) return this.typedArray(value, level);
        break;
      case 'buffer':
        if (isTypedArray(value)) return this.buffer(value);
        break;
      case 'boxed': {
        const boxed = this.boxed(value);
        if (boxed !== undefined) return boxed;
        break;
      }
      case 'foreign':
        return this.foreign(value, info, level);
    }
    return this.instance(value, info.className, level);
  }

  /** An object whose chain does not reach this realm's Object.prototype: check every kind. */
  private foreign(value: object, info: ProtoInfo, level: number): Value {
    if (isMap(value)) return this.map(value, info, level);
    if (isSet(value)) return this.set(value, info, level);
    if (isWeakMap(value)) return this.mark(WEAKMAP);
    if (isWeakSet(value)) return this.mark(WEAKSET);
    if (isDate(value)) return this.date(value);
    if (isRegExp(value)) return this.regexp(value);
    if (isNativeError(value)) return this.error(value, info, level);
    if (isPromise(value)) return this.mark(PROMISE);
    if (isAnyArrayBuffer(value)) return this.arrayBuffer(value);
    if (isDataView(value)) return this.dataView(value);
    if (isTypedArray(value)) return this.typedArray(value, level);
    const boxed = this.boxed(value);
    if (boxed !== undefined) return boxed;
    if (isArgumentsObject(value)) return this.argumentsObject(value, level);
    const self = ObjectGetOwnPropertyDescriptor(value, 'globalThis');
    if (self !== undefined && ObjectHasOwn(self, 'value') && self.value === value) return this.mark(GLOBAL);
    if (info.plain) return this.plain(value, level);
    return this.instance(value, info.className, level);
  }

  private mark(value: MarkerValue): MarkerValue {
    this.budget -= MARKER_BYTES;
    return value;
  }

  private fn(value: object): FunctionValue {
    const descriptor = ObjectGetOwnPropertyDescriptor(value, 'name');
    const name = descriptor !== undefined && ObjectHasOwn(descriptor, 'value') && typeof descriptor.value === 'string' ? this.name(descriptor.value) : '';
    this.budget -= name.length + TAG_BYTES;
    const kind = functionKind(value);
    return kind === undefined ? { $: 'function', name } : { $: 'function', name, kind };
  }

  private plain(value: object, level: number): Value {
    const keys = ObjectKeys(value);
    // Arguments objects look plain (their prototype is Object.prototype); only they have
    // index keys first and no other enumerable keys, so the check is rarely paid.
    if ((keys.length === 0 || keys[0] === '0') && isArgumentsObject(value)) return this.argumentsObject(value, level);
    const props = this.fields(value, keys, level, false);
    const more = this.lastMore;
    if (this.lastDollar) {
      const tagged: InstanceValue = { $: 'object', class: 'Object', props };
      if (more > 0) tagged.more = more;
      return tagged;
    }
    if (more > 0) props.$more = more;
    this.budget -= 2;
    return props;
  }

  private instance(value: object, className: string | null, level: number): InstanceValue {
    const props = this.fields(value, ObjectKeys(value), level, false);
    const out: InstanceValue = { $: 'object', class: className === null ? null : this.name(className === '' ? 'Object' : className), props };
    if (this.lastMore > 0) out.more = this.lastMore;
    this.budget -= TAG_BYTES;
    return out;
  }

  private namespace(value: object, level: number): Value {
    // Object.keys would read every binding to check enumerability, and throw on one still
    // in its TDZ; the key list itself reads none. Every export is enumerable.
    const all = ReflectOwnKeys(value);
    const keys: string[] = [];
    for (let i = 0; i < all.length; i++) {
      const key = all[i];
      if (typeof key === 'string') keys[keys.length] = key;
    }
    const props = this.fields(value, keys, level, false);
    this.budget -= TAG_BYTES;
    return this.lastMore > 0 ? { $: 'module', props, more: this.lastMore } : { $: 'module', props };
  }

  /**
   * Own enumerable string-keyed fields of `value`. Symbol-keyed ones are not captured:
   * listing them costs more than the rest of a small object, and they mostly hold a
   * library's internal state. Sets lastMore (fields left out) and lastDollar (a shown
   * key is '$' or '$more').
   */
  private fields(value: object, keys: readonly string[], level: number, forError: boolean): ObjectValue {
    const out: ObjectValue = {};
    const limit = this.fieldLimit;
    const n = keys.length;
    let shown = 0;
    let more = 0;
    let dollar = false;
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      if (forError && ERROR_OWN_FIELDS[key] === true) continue;
      if (shown >= limit || this.budget <= 0) {
        for (let j = i; j < n; j++) if (!(forError && ERROR_OWN_FIELDS[keys[j]!] === true)) more++;
        this.truncated = true;
        break;
      }
      shown++;
      const name = this.name(key);
      if (name === '$' || name === '$more') dollar = true;
      this.budget -= name.length + KEY_OVERHEAD;
      const field = this.property(value, key, level);
      // Assignment would run an accessor inherited from Object.prototype ('__proto__',
      // or a setter a program added there); defining the property runs nothing. (Own
      // is enough: Object.prototype's own prototype is null, immutably.)
      if (ObjectHasOwn(ObjectPrototype, name)) ObjectDefineProperty(out, name, { __proto__: null, value: field, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
      else out[name] = field;
    }
    this.lastMore = more;
    this.lastDollar = dollar;
    return out;
  }

  /** One property's value, read through its descriptor. */
  private property(value: object, key: string, level: number): Value {
    if (this.redacts(key)) {
      this.budget -= MARKER_BYTES;
      return REDACTED;
    }
    let descriptor: PropertyDescriptor | undefined;
    try {
      descriptor = ObjectGetOwnPropertyDescriptor(value, key);
    } catch {
      // A module namespace binding still in its TDZ.
      return UNREADABLE;
    }
    if (descriptor === undefined) return UNREADABLE;
    if (ObjectHasOwn(descriptor, 'value')) return this.walk(descriptor.value, level + 1);
    this.budget -= MARKER_BYTES;
    return accessor(descriptor);
  }

  private array(value: unknown[], level: number): Value[] {
    this.budget -= 2;
    return this.elements(value, value.length, level);
  }

  /** Elements 0..length-1 of an array or arguments object, holes as runs, cut with a `more`. */
  private elements(value: object, length: number, level: number): Value[] {
    const out: Value[] = [];
    const limit = length < this.items ? length : this.items;
    // A raw header list (`req.rawHeaders`: name, value, name, value): a value whose name is a secret key.
    const headers = this.rules.headers;
    let secretName = false;
    let i = 0;
    while (i < limit && this.budget > 0) {
      const descriptor = ObjectGetOwnPropertyDescriptor(value, i);
      if (descriptor === undefined) {
        let end = i + 1;
        while (end < limit && ObjectGetOwnPropertyDescriptor(value, end) === undefined) end++;
        out[out.length] = { $: 'hole', count: end - i };
        this.budget -= TAG_BYTES;
        i = end;
        continue;
      }
      if (!ObjectHasOwn(descriptor, 'value')) {
        this.budget -= MARKER_BYTES;
        out[out.length] = accessor(descriptor);
        secretName = false;
      } else if (secretName) {
        out[out.length] = this.mark(REDACTED);
        secretName = false;
      } else {
        const element: unknown = descriptor.value;
        out[out.length] = this.walk(element, level + 1);
        secretName = headers && (i & 1) === 0 && typeof element === 'string' && element.length <= 128 && this.redactor.matches(element);
      }
      i++;
    }
    if (i < length) {
      this.truncated = true;
      this.budget -= TAG_BYTES;
      out[out.length] = { $: 'more', count: length - i };
    }
    return out;
  }

  private argumentsObject(value: object, level: number): ArgumentsValue {
    const descriptor = ObjectGetOwnPropertyDescriptor(value, 'length');
    const raw: unknown = descriptor !== undefined && ObjectHasOwn(descriptor, 'value') ? descriptor.value : 0;
    const length = typeof raw === 'number' && raw >= 0 && raw <= 0xffffffff ? raw - (raw % 1) : 0;
    this.budget -= TAG_BYTES;
    return { $: 'arguments', items: this.elements(value, length, level) };
  }

  private map(value: object, info: ProtoInfo, level: number): MapValue {
    const map = value as Map<unknown, unknown>;
    const size = MapPrototypeGetSize(map);
    const entries: [Value, Value][] = [];
    const iterator = MapPrototypeEntries(map);
    const limit = size < this.items ? size : this.items;
    this.budget -= TAG_BYTES;
    for (let i = 0; i < limit && this.budget > 0; i++) {
      const step = MapIteratorPrototypeNext(iterator);
      if (step.done) break;
      const pair = step.value;
      const key = pair[0];
      const k = this.walk(key, level + 1);
      const v = typeof key === 'string' && this.redacts(key) ? this.mark(REDACTED) : this.walk(pair[1], level + 1);
      entries[entries.length] = [k, v];
    }
    if (entries.length < size) this.truncated = true;
    const out: MapValue = { $: 'map', size, entries };
    if (info.className !== 'Map' && info.className !== '') out.class = this.name(info.className);
    return out;
  }

  private set(value: object, info: ProtoInfo, level: number): SetValue {
    const set = value as Set<unknown>;
    const size = SetPrototypeGetSize(set);
    const values: Value[] = [];
    const iterator = SetPrototypeValues(set);
    const limit = size < this.items ? size : this.items;
    this.budget -= TAG_BYTES;
    for (let i = 0; i < limit && this.budget > 0; i++) {
      const step = SetIteratorPrototypeNext(iterator);
      if (step.done) break;
      values[values.length] = this.walk(step.value, level + 1);
    }
    if (values.length < size) this.truncated = true;
    const out: SetValue = { $: 'set', size, values };
    if (info.className !== 'Set' && info.className !== '') out.class = this.name(info.className);
    return out;
  }

  private date(value: object): Value {
    const date = value as Date;
    const time = DatePrototypeGetTime(date);
    this.budget -= TAG_BYTES + 24;
    return { $: 'date', value: time !== time ? 'Invalid Date' : DatePrototypeToISOString(date) };
  }

  private regexp(value: object): Value {
    const re = value as RegExp;
    let flags = '';
    for (let i = 0; i < REGEXP_FLAGS.length; i++) {
      const flag = REGEXP_FLAGS[i]!;
      if (flag[1](re)) flags += flag[0];
    }
    this.budget -= TAG_BYTES + flags.length;
    return { $: 'regexp', source: this.cut(RegExpPrototypeGetSource(re), this.stringLimit, RegExpPrototypeGetSource(re).length), flags };
  }

  private error(value: object, info: ProtoInfo, level: number): ErrorValue {
    this.budget -= TAG_BYTES;
    const className = info.className;
    const nameFound = lookup(value, 'name');
    const name: StringValue =
      typeof nameFound === 'string' ? this.cut(nameFound, this.stringLimit, nameFound.length) : this.name(className === '' ? 'Error' : className);
    const messageFound = lookup(value, 'message');
    const message: Value =
      messageFound === ACCESSOR
        ? GETTER
        : messageFound === MISSING || messageFound === BLOCKED
          ? ''
          : this.walk(messageFound, level + 1);
    const out: ErrorValue = { $: 'error', name, message };
    if (className !== '' && className !== nameFound) out.class = this.name(className);
    if (stackReadable(value, nameFound, messageFound)) {
      const stack = ObjectGetOwnPropertyDescriptor(value, 'stack');
      if (stack !== undefined && ObjectHasOwn(stack, 'value') && typeof stack.value === 'string') {
        out.stack = this.text(stack.value, this.stringLimit * 4);
      }
    }
    const cause = ObjectGetOwnPropertyDescriptor(value, 'cause');
    if (cause !== undefined) out.cause = ObjectHasOwn(cause, 'value') ? this.walk(cause.value, level + 1) : accessor(cause);
    const errors = ObjectGetOwnPropertyDescriptor(value, 'errors');
    if (errors !== undefined) out.errors = ObjectHasOwn(errors, 'value') ? this.walk(errors.value, level + 1) : accessor(errors);
    const keys = ObjectKeys(value);
    const props = this.fields(value, keys, level, true);
    if (this.lastMore > 0) out.more = this.lastMore;
    if (ObjectKeys(props).length > 0) out.props = props;
    return out;
  }

  private bytes(view: ArrayLike<number>, length: number): string {
    const n = length < this.items ? length : this.items;
    let hex = '';
    for (let i = 0; i < n; i++) hex += HEX[view[i]!]!;
    if (n < length) this.truncated = true;
    this.budget -= hex.length + TAG_BYTES;
    return hex;
  }

  private buffer(value: object): Value {
    const view = value as Uint8Array;
    const length = TypedArrayPrototypeGetLength(view);
    return { $: 'buffer', length, hex: this.bytes(view, length) };
  }

  private arrayBuffer(value: object): Value {
    const shared = isSharedArrayBuffer(value);
    const length = shared
      ? SharedArrayBufferPrototypeGetByteLength(value as SharedArrayBuffer)
      : ArrayBufferPrototypeGetByteLength(value as ArrayBuffer);
    const n = length < this.items ? length : this.items;
    const view = new Uint8ArrayConstructor(value as ArrayBuffer, 0, n);
    return { $: 'arraybuffer', class: shared ? 'SharedArrayBuffer' : 'ArrayBuffer', length, hex: this.bytes(view, length) };
  }

  private dataView(value: object): Value {
    const dv = value as DataView;
    const length = DataViewPrototypeGetByteLength(dv);
    const n = length < this.items ? length : this.items;
    const view = new Uint8ArrayConstructor(DataViewPrototypeGetBuffer(dv), DataViewPrototypeGetByteOffset(dv), n);
    return { $: 'dataview', length, hex: this.bytes(view, length) };
  }

  private typedArray(value: object, level: number): TypedArrayValue {
    const view = value as ArrayLike<number | bigint> & ArrayBufferView;
    const className = TypedArrayPrototypeGetToStringTag(view) ?? 'TypedArray';
    const length = TypedArrayPrototypeGetLength(view);
    const n = length < this.items ? length : this.items;
    const items: Value[] = [];
    this.budget -= TAG_BYTES;
    for (let i = 0; i < n && this.budget > 0; i++) items[i] = this.walk(view[i], level + 1);
    if (items.length < length) this.truncated = true;
    return { $: 'typedarray', class: className, length, items };
  }

  private boxed(value: object): Value | undefined {
    let inner: unknown;
    if (isNumberObject(value)) inner = NumberPrototypeValueOf(value as number);
    else if (isStringObject(value)) inner = StringPrototypeValueOf(value as string);
    else if (isBooleanObject(value)) inner = BooleanPrototypeValueOf(value as boolean);
    else if (isBigIntObject(value)) inner = BigIntPrototypeValueOf(value as bigint);
    else if (isSymbolObject(value)) inner = SymbolPrototypeValueOf(value as symbol);
    else return undefined;
    this.budget -= TAG_BYTES;
    return { $: 'boxed', value: this.walk(inner, 0) };
  }
}

function functionKind(fn: object): FunctionKind | undefined {
  if (isAsyncFunction(fn)) return isGeneratorFunction(fn) ? 'asyncgenerator' : 'async';
  if (isGeneratorFunction(fn)) return 'generator';
  // The built-in toString returns the source text V8 already holds; a class starts with 'class'.
  return StringPrototypeStartsWith(FunctionPrototypeToString(fn as () => void), 'class') ? 'class' : undefined;
}

const ACCESSOR = Symbol('accessor');
const MISSING = Symbol('missing');
const BLOCKED = Symbol('blocked');
type Lookup = unknown;

/** `value[key]` through the prototype chain, by descriptors: ACCESSOR, MISSING or BLOCKED (a Proxy) instead of calling. */
function lookup(value: object, key: string): Lookup {
  let p: object | null = value;
  for (let steps = 0; p !== null && steps < MAX_CHAIN; steps++) {
    if (p !== value && isProxy(p)) return BLOCKED;
    const descriptor = ObjectGetOwnPropertyDescriptor(p, key);
    if (descriptor !== undefined) return ObjectHasOwn(descriptor, 'value') ? descriptor.value : ACCESSOR;
    p = ObjectGetPrototypeOf(p);
  }
  return MISSING;
}

/**
 * Whether reading `error.stack` is free of user code. V8 formats the stack lazily on
 * first read, through Node's callback, which calls `globalThis.Error.prepareStackTrace`
 * when set and otherwise reads `name`, `message` (and `code`) through the prototype
 * chain and tests a symbol with `in`. So: the global Error must be the intrinsic one,
 * its prepareStackTrace absent or Node's own default (as found at agent load), the chain
 * free of Proxies, and those fields data properties.
 */
function stackReadable(error: object, name: Lookup, message: Lookup): boolean {
  if (name === ACCESSOR || name === BLOCKED || message === ACCESSOR || message === BLOCKED) return false;
  const globalError = ObjectGetOwnPropertyDescriptor(GlobalObject, 'Error');
  if (globalError === undefined || !ObjectHasOwn(globalError, 'value') || globalError.value !== ErrorConstructor) return false;
  const prepare = ObjectGetOwnPropertyDescriptor(ErrorConstructor, 'prepareStackTrace');
  if (prepare !== undefined) {
    if (!ObjectHasOwn(prepare, 'value')) return false;
    const fn: unknown = prepare.value;
    if (fn !== undefined && (fn !== initialPrepareStackTrace || !isNodeDefaultPrepare(fn))) return false;
  }
  const code = lookup(error, 'code');
  if (code === ACCESSOR || code === BLOCKED) return false;
  // An error of another realm is formatted with that realm's Error: not checked here.
  let ours = false;
  let p: object | null = ObjectGetPrototypeOf(error);
  for (let steps = 0; p !== null; steps++) {
    if (steps >= MAX_CHAIN || isProxy(p)) return false;
    if (p === ErrorPrototype) ours = true;
    p = ObjectGetPrototypeOf(p);
  }
  return ours;
}

/** Node 20.20 installs a default `Error.prepareStackTrace` named ErrorPrepareStackTrace. */
function isNodeDefaultPrepare(fn: unknown): boolean {
  if (typeof fn !== 'function' || isProxy(fn)) return false;
  const name = ObjectGetOwnPropertyDescriptor(fn, 'name');
  return name !== undefined && ObjectHasOwn(name, 'value') && name.value === 'ErrorPrepareStackTrace';
}

let defaultCapturer: Capturer | undefined;

/** Captures one value with its own budget. Without options, a shared default capturer is used. */
export function capture(value: unknown, options?: CaptureOptions): Captured {
  if (options === undefined) {
    defaultCapturer ??= new Capturer();
    return defaultCapturer.capture(value);
  }
  return new Capturer(options).capture(value);
}
