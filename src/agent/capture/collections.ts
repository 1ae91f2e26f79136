/**
 * Map and Set contents, from the built-in iterators taken at load
 * (src/safe/intrinsics.ts): a replaced `Map.prototype.entries` or iterator `next` is
 * never called. A Map value under a redacted string key is redacted like a field (by the
 * redaction list or the argument's parameter, Budget.redacts).
 */
import type { MapValue, SetValue, Value } from '../../protocol/value.js';
import {
  MapIteratorPrototypeNext,
  MapPrototypeEntries,
  MapPrototypeGetSize,
  SetIteratorPrototypeNext,
  SetPrototypeGetSize,
  SetPrototypeValues,
} from '../../safe/intrinsics.js';
import type { Budget } from './budget.js';
import { REDACTED, TAG_BYTES } from './markers.js';
import type { ProtoInfo } from './prototypes.js';

export function map(b: Budget, value: object, info: ProtoInfo, level: number): MapValue {
  const map = value as Map<unknown, unknown>;
  const size = MapPrototypeGetSize(map);
  const entries: [Value, Value][] = [];
  const iterator = MapPrototypeEntries(map);
  const limit = size < b.items ? size : b.items;
  b.budget -= TAG_BYTES;
  for (let i = 0; i < limit && b.budget > 0; i++) {
    const step = MapIteratorPrototypeNext(iterator);
    if (step.done) break;
    const pair = step.value;
    const key = pair[0];
    const k = b.walk(key, level + 1);
    const v = typeof key === 'string' && b.redacts(key) ? b.mark(REDACTED) : b.walk(pair[1], level + 1);
    entries[entries.length] = [k, v];
  }
  if (entries.length < size) b.truncated = true;
  const out: MapValue = { $: 'map', size, entries };
  if (info.className !== 'Map' && info.className !== '') out.class = b.name(info.className);
  return out;
}

export function set(b: Budget, value: object, info: ProtoInfo, level: number): SetValue {
  const set = value as Set<unknown>;
  const size = SetPrototypeGetSize(set);
  const values: Value[] = [];
  const iterator = SetPrototypeValues(set);
  const limit = size < b.items ? size : b.items;
  b.budget -= TAG_BYTES;
  for (let i = 0; i < limit && b.budget > 0; i++) {
    const step = SetIteratorPrototypeNext(iterator);
    if (step.done) break;
    values[values.length] = b.walk(step.value, level + 1);
  }
  if (values.length < size) b.truncated = true;
  const out: SetValue = { $: 'set', size, values };
  if (info.className !== 'Set' && info.className !== '') out.class = b.name(info.className);
  return out;
}
