/**
 * Plain objects, class instances, module namespaces, arrays and arguments objects: their
 * own fields and elements, each read through its descriptor (src/safe/property.ts), so a
 * getter is reported as `{"$":"getter"}` and never called.
 *
 * Symbol-keyed fields are not captured: listing them costs more than the rest of a small
 * object, and they mostly hold a library's internal state.
 */
import type { ArgumentsValue, InstanceValue, ObjectValue, Value } from '../../protocol/value.js';
import {
  ObjectCreate,
  ObjectDefineProperty,
  ObjectHasOwn,
  ObjectPrototype,
  WeakMapPrototypeGet,
  WeakMapPrototypeSet,
  isArgumentsObject,
} from '../../safe/intrinsics.js';
import { enumerableKeys, isData, ownData, ownDescriptor, ownKeys, type Readable } from '../../safe/property.js';
import type { Budget } from './budget.js';
import { KEY_OVERHEAD, MARKER_BYTES, REDACTED, TAG_BYTES, UNREADABLE, accessor } from './markers.js';

/**
 * Objects seen with more own keys than this are afterwards shown by their key count
 * alone. JavaScript has no way to list an object's keys lazily: Object.keys, for-in and
 * Reflect.ownKeys all build the whole list, which for an object in dictionary mode with
 * 10^6 keys costs about a second, on every capture. The first capture of such an object
 * pays it once (and the session's per-call ceiling ends the session if that is too
 * much, session.ts); later captures of the same object read the count from here.
 */
export const HUGE_KEY_COUNT = 10_000;
const hugeObjects = new WeakMap<object, number>();

/** Own enumerable string keys, or the remembered count of a huge object's keys. */
export function keysOf(value: Readable): readonly string[] | number {
  const known = WeakMapPrototypeGet(hugeObjects, value) as number | undefined;
  if (known !== undefined) return known;
  const keys = enumerableKeys(value);
  if (keys.length > HUGE_KEY_COUNT) WeakMapPrototypeSet(hugeObjects, value, keys.length);
  return keys;
}

/** Error fields shown in their own slots of the error form, so left out of its props. */
const ERROR_OWN_FIELDS = ObjectCreate(null) as Record<string, true>;
for (const key of ['name', 'message', 'stack', 'cause', 'errors']) ERROR_OWN_FIELDS[key] = true;

/**
 * Own enumerable string-keyed fields of `value`. Sets lastMore (fields left out) and
 * lastDollar (a shown key is '$' or '$more').
 */
export function fields(b: Budget, value: Readable, keyList: readonly string[] | number, level: number, forError: boolean): ObjectValue {
  const out: ObjectValue = {};
  if (typeof keyList === 'number') {
    // A huge object seen before (keysOf): its count, nothing enumerated.
    b.lastMore = keyList;
    b.lastDollar = false;
    b.truncated = true;
    return out;
  }
  const keys = keyList;
  const limit = b.fieldLimit;
  const n = keys.length;
  let shown = 0;
  let more = 0;
  let dollar = false;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    if (forError && ERROR_OWN_FIELDS[key] === true) continue;
    if (shown >= limit || b.budget <= 0) {
      for (let j = i; j < n; j++) if (!(forError && ERROR_OWN_FIELDS[keys[j]!] === true)) more++;
      b.truncated = true;
      break;
    }
    shown++;
    const name = b.name(key);
    if (name === '$' || name === '$more') dollar = true;
    b.budget -= name.length + KEY_OVERHEAD;
    const field = property(b, value, key, level);
    // Assignment would run an accessor inherited from Object.prototype ('__proto__',
    // or a setter a program added there); defining the property runs nothing. (Own
    // is enough: Object.prototype's own prototype is null, immutably.)
    if (ObjectHasOwn(ObjectPrototype, name)) ObjectDefineProperty(out, name, { __proto__: null, value: field, writable: true, enumerable: true, configurable: true } as PropertyDescriptor);
    else out[name] = field;
  }
  b.lastMore = more;
  b.lastDollar = dollar;
  return out;
}

/** One property's value, read through its descriptor. */
function property(b: Budget, value: Readable, key: string, level: number): Value {
  if (b.redacts(key)) {
    b.budget -= MARKER_BYTES;
    return REDACTED;
  }
  let descriptor: PropertyDescriptor | undefined;
  try {
    descriptor = ownDescriptor(value, key);
  } catch {
    // A module namespace binding still in its TDZ.
    return UNREADABLE;
  }
  if (descriptor === undefined) return UNREADABLE;
  if (isData(descriptor)) return b.walk(descriptor.value, level + 1);
  b.budget -= MARKER_BYTES;
  return accessor(descriptor);
}

export function plain(b: Budget, value: Readable, level: number): Value {
  const keys = keysOf(value);
  // Arguments objects look plain (their prototype is Object.prototype); only they have
  // index keys first and no other enumerable keys, so the check is rarely paid.
  if (typeof keys !== 'number' && (keys.length === 0 || keys[0] === '0') && isArgumentsObject(value)) return argumentsObject(b, value, level);
  const props = fields(b, value, keys, level, false);
  const more = b.lastMore;
  if (b.lastDollar) {
    const tagged: InstanceValue = { $: 'object', class: 'Object', props };
    if (more > 0) tagged.more = more;
    return tagged;
  }
  if (more > 0) props.$more = more;
  b.budget -= 2;
  return props;
}

export function instance(b: Budget, value: Readable, className: string | null, level: number): InstanceValue {
  const props = fields(b, value, keysOf(value), level, false);
  const out: InstanceValue = { $: 'object', class: className === null ? null : b.name(className === '' ? 'Object' : className), props };
  if (b.lastMore > 0) out.more = b.lastMore;
  b.budget -= TAG_BYTES;
  return out;
}

export function namespace(b: Budget, value: Readable, level: number): Value {
  // Object.keys would read every binding to check enumerability, and throw on one still
  // in its TDZ; the key list itself reads none. Every export is enumerable.
  const all = ownKeys(value);
  const keys: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const key = all[i];
    if (typeof key === 'string') keys[keys.length] = key;
  }
  const props = fields(b, value, keys, level, false);
  b.budget -= TAG_BYTES;
  return b.lastMore > 0 ? { $: 'module', props, more: b.lastMore } : { $: 'module', props };
}

export function array(b: Budget, value: Readable, level: number): Value[] {
  b.budget -= 2;
  return elements(b, value, (value as unknown as unknown[]).length, level);
}

/** Elements 0..length-1 of an array or arguments object, holes as runs, cut with a `more`. */
function elements(b: Budget, value: Readable, length: number, level: number): Value[] {
  const out: Value[] = [];
  const limit = length < b.items ? length : b.items;
  // A raw header list (`req.rawHeaders`: name, value, name, value): a value whose name is a secret key.
  const headers = b.rules.headers;
  let secretName = false;
  let i = 0;
  while (i < limit && b.budget > 0) {
    const descriptor = ownDescriptor(value, i);
    if (descriptor === undefined) {
      let end = i + 1;
      while (end < limit && ownDescriptor(value, end) === undefined) end++;
      out[out.length] = { $: 'hole', count: end - i };
      b.budget -= TAG_BYTES;
      i = end;
      continue;
    }
    if (!isData(descriptor)) {
      b.budget -= MARKER_BYTES;
      out[out.length] = accessor(descriptor);
      secretName = false;
    } else if (secretName) {
      out[out.length] = b.mark(REDACTED);
      secretName = false;
    } else {
      const element: unknown = descriptor.value;
      out[out.length] = b.walk(element, level + 1);
      secretName = headers && (i & 1) === 0 && typeof element === 'string' && element.length <= 128 && b.redactor.matches(element);
    }
    i++;
  }
  if (i < length) {
    b.truncated = true;
    b.budget -= TAG_BYTES;
    out[out.length] = { $: 'more', count: length - i };
  }
  return out;
}

export function argumentsObject(b: Budget, value: Readable, level: number): ArgumentsValue {
  const raw = ownData(value, 'length');
  const length = typeof raw === 'number' && raw >= 0 && raw <= 0xffffffff ? raw - (raw % 1) : 0;
  b.budget -= TAG_BYTES;
  return { $: 'arguments', items: elements(b, value, length, level) };
}
