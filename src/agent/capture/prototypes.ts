/**
 * What a prototype chain says an object is, kept per prototype.
 *
 * Prototypes are few and shared by many instances; classifying one walks its chain with
 * a Proxy check and two descriptor reads per step, so the answer is kept (a WeakMap from
 * prototype to kind and class name). A chain edited after the fact can at worst yield a
 * stale class name or a less specific kind (the kind is always confirmed on the object
 * itself with util.types), never a user-code call.
 */
import { Buffer } from 'node:buffer';
import {
  ErrorPrototype,
  MapPrototypeGet,
  ObjectFreeze,
  ObjectGetPrototypeOf,
  ObjectPrototype,
  TypedArrayPrototype,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
} from '../../safe/intrinsics.js';
import { BLOCKED, MAX_CHAIN, constructorName, prototypeOf, type Readable } from '../../safe/property.js';

/** What a prototype chain says an object is; confirmed per object with util.types. */
export type Kind =
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

export interface ProtoInfo {
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

/** A prototype that is itself a Proxy: nothing past it can be read without running its traps. */
const BEHIND_PROXY: ProtoInfo = ObjectFreeze({ kind: 'foreign', className: '', plain: false });

const protoInfos = new WeakMap<object, ProtoInfo>();

export function protoInfo(proto: Readable | typeof BLOCKED): ProtoInfo {
  if (proto === BLOCKED) return BEHIND_PROXY;
  let info = WeakMapPrototypeGet(protoInfos, proto) as ProtoInfo | undefined;
  if (info === undefined) {
    info = classify(proto);
    WeakMapPrototypeSet(protoInfos, proto, info);
  }
  return info;
}

function classify(proto: Readable): ProtoInfo {
  let kind: Kind | undefined;
  let className = '';
  let rooted = false;
  let steps = 0;
  let last: object = proto;
  for (let p: Readable | null | typeof BLOCKED = proto; p !== null && p !== BLOCKED && steps < MAX_CHAIN; steps++) {
    if (p === ObjectPrototype) {
      rooted = true;
      break;
    }
    if (kind === undefined) kind = MapPrototypeGet(INTRINSIC_KINDS, p) as Kind | undefined;
    if (className === '') className = constructorName(p);
    last = p;
    p = prototypeOf(p);
  }
  // Another realm's Object.prototype: its chain ends right after it, and it names Object.
  const plain = !rooted && steps === 1 && last === proto && className === 'Object' && ObjectGetPrototypeOf(proto) === null;
  return { kind: kind ?? (rooted ? 'ordinary' : 'foreign'), className, plain };
}
