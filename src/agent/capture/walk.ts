/**
 * The recursion of a capture: one value at a time, dispatched by type and, for objects,
 * by what their prototype says they are (prototypes.ts), confirmed with util.types on
 * the object itself.
 *
 * `util.types.isProxy` comes before anything else touches an object (src/safe/property.ts,
 * `readable`), and a Proxy is reported as `{"$":"proxy"}`, never opened. Objects being
 * expanded are kept on a path, outermost first: a value met again on it is a cycle.
 * Deeper than the depth limit an object is only named (`{"$":"depth"}`).
 *
 * It is on the hot path of every reported call, so plain objects and arrays take a short
 * road, and markers without payload are shared frozen objects (markers.ts).
 */
import type { DepthValue, Value } from '../../protocol/value.js';
import {
  ArrayIsArray,
  GlobalObject,
  ObjectPrototype,
  isAnyArrayBuffer,
  isArgumentsObject,
  isDataView,
  isDate,
  isMap,
  isModuleNamespaceObject,
  isNativeError,
  isPromise,
  isRegExp,
  isSet,
  isTypedArray,
  isWeakMap,
  isWeakSet,
} from '../../safe/intrinsics.js';
import { ownData, prototypeOf, readable, type BLOCKED, type Readable } from '../../safe/property.js';
import { arrayBuffer, buffer, dataView, typedArray } from './binary.js';
import { Budget } from './budget.js';
import { map, set } from './collections.js';
import { error } from './errors.js';
import type { CaptureLimits } from './limits.js';
import {
  BOOLEAN_BYTES,
  CIRCULAR,
  DEPTH_ARRAY,
  DEPTH_NULL_PROTOTYPE,
  DEPTH_OBJECT,
  GLOBAL,
  INFINITY,
  MARKER_BYTES,
  NAN,
  NEGATIVE_INFINITY,
  NEGATIVE_ZERO,
  NUMBER_BYTES,
  PROMISE,
  PROXY,
  TAG_BYTES,
  UNDEFINED,
  UNREADABLE,
  WEAKMAP,
  WEAKSET,
} from './markers.js';
import { argumentsObject, array, instance, namespace, plain } from './objects.js';
import { protoInfo, type ProtoInfo } from './prototypes.js';
import { boxed, date, fn, regexp } from './scalars.js';

type Proto = Readable | null | typeof BLOCKED;

export class Walker extends Budget {
  /** The objects being expanded, outermost first: a value met again here is a cycle. */
  private readonly path: (object | null)[];
  private pathLength = 0;

  constructor(limits: CaptureLimits) {
    super(limits);
    this.path = new Array<object | null>(limits.depth + 2).fill(null);
  }

  clearPath(): void {
    const path = this.path;
    for (let i = 0; i < this.pathLength; i++) path[i] = null;
    this.pathLength = 0;
  }

  walk(value: unknown, level: number): Value {
    switch (typeof value) {
      case 'number':
        this.budget -= NUMBER_BYTES;
        if (value - value === 0) return value === 0 && 1 / value < 0 ? NEGATIVE_ZERO : value;
        return value !== value ? NAN : value > 0 ? INFINITY : NEGATIVE_INFINITY;
      case 'string':
        return this.string(value, this.stringLimit);
      case 'boolean':
        this.budget -= BOOLEAN_BYTES;
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

  private object(raw: object, level: number): Value {
    const value = readable(raw);
    if (value === undefined) {
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
    if (typeof value === 'function') return fn(this, value);
    // An array's prototype is not consulted: undefined stands for "an array".
    const proto = ArrayIsArray(value) ? undefined : prototypeOf(value);
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

  private depthMarker(proto: Proto | undefined): DepthValue {
    if (proto === undefined) return DEPTH_ARRAY;
    if (proto === ObjectPrototype) return DEPTH_OBJECT;
    if (proto === null) return DEPTH_NULL_PROTOTYPE;
    const info = protoInfo(proto);
    return info.plain || info.className === '' ? DEPTH_OBJECT : { $: 'depth', class: this.name(info.className) };
  }

  private expand(value: Readable, proto: Proto | undefined, level: number): Value {
    if (proto === undefined) return array(this, value, level);
    if (proto === ObjectPrototype) return plain(this, value, level);
    if (proto === null) {
      return isModuleNamespaceObject(value) ? namespace(this, value, level) : instance(this, value, null, level);
    }
    if (value === GlobalObject) {
      this.budget -= MARKER_BYTES;
      return GLOBAL;
    }
    const info = protoInfo(proto);
    switch (info.kind) {
      case 'ordinary':
        return instance(this, value, info.className, level);
      case 'map':
        if (isMap(value)) return map(this, value, info, level);
        break;
      case 'set':
        if (isSet(value)) return set(this, value, info, level);
        break;
      case 'weakmap':
        if (isWeakMap(value)) return this.mark(WEAKMAP);
        break;
      case 'weakset':
        if (isWeakSet(value)) return this.mark(WEAKSET);
        break;
      case 'date':
        if (isDate(value)) return date(this, value);
        break;
      case 'regexp':
        if (isRegExp(value)) return regexp(this, value);
        break;
      case 'error':
        // Old-style subclasses (prototype chained to Error.prototype, no super call) count too.
        return error(this, value, info, level);
      case 'promise':
        if (isPromise(value)) return this.mark(PROMISE);
        break;
      case 'arraybuffer':
        if (isAnyArrayBuffer(value)) return arrayBuffer(this, value);
        break;
      case 'dataview':
        if (isDataView(value)) return dataView(this, value);
        break;
      case 'typedarray':
        if (isTypedArray(value)) return typedArray(this, value, level);
        break;
      case 'buffer':
        if (isTypedArray(value)) return buffer(this, value);
        break;
      case 'boxed': {
        const inner = boxed(this, value);
        if (inner !== undefined) return inner;
        break;
      }
      case 'foreign':
        return this.foreign(value, info, level);
    }
    return instance(this, value, info.className, level);
  }

  /** An object whose chain does not reach this realm's Object.prototype: check every kind. */
  private foreign(value: Readable, info: ProtoInfo, level: number): Value {
    if (isMap(value)) return map(this, value, info, level);
    if (isSet(value)) return set(this, value, info, level);
    if (isWeakMap(value)) return this.mark(WEAKMAP);
    if (isWeakSet(value)) return this.mark(WEAKSET);
    if (isDate(value)) return date(this, value);
    if (isRegExp(value)) return regexp(this, value);
    if (isNativeError(value)) return error(this, value, info, level);
    if (isPromise(value)) return this.mark(PROMISE);
    if (isAnyArrayBuffer(value)) return arrayBuffer(this, value);
    if (isDataView(value)) return dataView(this, value);
    if (isTypedArray(value)) return typedArray(this, value, level);
    const inner = boxed(this, value);
    if (inner !== undefined) return inner;
    if (isArgumentsObject(value)) return argumentsObject(this, value, level);
    if (ownData(value, 'globalThis') === value) return this.mark(GLOBAL);
    if (info.plain) return plain(this, value, level);
    return instance(this, value, info.className, level);
  }
}
