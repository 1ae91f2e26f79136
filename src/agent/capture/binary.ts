/**
 * Buffers, ArrayBuffers, DataViews and typed arrays. Lengths, element types and contents
 * come from the built-in accessors and internal slots (never a user `length` property);
 * bytes are shown as hex, at most `items` of them.
 */
import type { TypedArrayValue, Value } from '../../protocol/value.js';
import {
  ArrayBufferPrototypeGetByteLength,
  DataViewPrototypeGetBuffer,
  DataViewPrototypeGetByteLength,
  DataViewPrototypeGetByteOffset,
  SharedArrayBufferPrototypeGetByteLength,
  TypedArrayPrototypeGetLength,
  TypedArrayPrototypeGetToStringTag,
  Uint8ArrayConstructor,
  isSharedArrayBuffer,
  ArrayPrototypePush,
} from '../../safe/intrinsics.js';
import type { Budget } from './budget.js';
import { TAG_BYTES } from './markers.js';

const HEX = (() => {
  const table: string[] = [];
  for (let i = 0; i < 256; i++) ArrayPrototypePush(table, i.toString(16).padStart(2, '0'));
  return table;
})();

function bytes(b: Budget, view: ArrayLike<number>, length: number): string {
  const n = length < b.items ? length : b.items;
  let hex = '';
  for (let i = 0; i < n; i++) hex += HEX[view[i]!]!;
  if (n < length) b.truncated = true;
  b.budget -= hex.length + TAG_BYTES;
  return hex;
}

export function buffer(b: Budget, value: object): Value {
  const view = value as Uint8Array;
  const length = TypedArrayPrototypeGetLength(view);
  return { $: 'buffer', length, hex: bytes(b, view, length) };
}

export function arrayBuffer(b: Budget, value: object): Value {
  const shared = isSharedArrayBuffer(value);
  const length = shared
    ? SharedArrayBufferPrototypeGetByteLength(value as SharedArrayBuffer)
    : ArrayBufferPrototypeGetByteLength(value as ArrayBuffer);
  const n = length < b.items ? length : b.items;
  const view = new Uint8ArrayConstructor(value as ArrayBuffer, 0, n);
  return { $: 'arraybuffer', class: shared ? 'SharedArrayBuffer' : 'ArrayBuffer', length, hex: bytes(b, view, length) };
}

export function dataView(b: Budget, value: object): Value {
  const dv = value as DataView;
  const length = DataViewPrototypeGetByteLength(dv);
  const n = length < b.items ? length : b.items;
  const view = new Uint8ArrayConstructor(DataViewPrototypeGetBuffer(dv), DataViewPrototypeGetByteOffset(dv), n);
  return { $: 'dataview', length, hex: bytes(b, view, length) };
}

export function typedArray(b: Budget, value: object, level: number): TypedArrayValue {
  const view = value as ArrayLike<number | bigint> & ArrayBufferView;
  const className = TypedArrayPrototypeGetToStringTag(view) ?? 'TypedArray';
  const length = TypedArrayPrototypeGetLength(view);
  const n = length < b.items ? length : b.items;
  const items: Value[] = [];
  b.budget -= TAG_BYTES;
  for (let i = 0; i < n && b.budget > 0; i++) items[i] = b.walk(view[i], level + 1);
  if (items.length < length) b.truncated = true;
  return { $: 'typedarray', class: className, length, items };
}
