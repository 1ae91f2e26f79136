/**
 * The captured form of a value: values as data, shared by the agent and its clients.
 *
 * A captured value is plain JSON, so `--format json` prints it as is. Plain objects,
 * arrays, finite numbers, booleans, null and strings within the limit stand for
 * themselves. Everything else is a "tagged" object: a JSON object with a string `$` key
 * naming its kind (`{"$":"undefined"}`, `{"$":"map","size":2,"entries":[...]}`). Two
 * rules keep this unambiguous:
 *
 * - a plain object whose own shown keys include `$` or `$more` is captured in the tagged
 *   form `{"$":"object","class":"Object","props":{...}}`, so a JSON object with a `$` key
 *   is always a tag and never user data;
 * - a plain object cut by the field limit carries `"$more": <count of fields left out>`,
 *   and an array cut by the item limit ends with `{"$":"more","count":n}`.
 *
 * docs/events.md ("Values") is the full reference. Printing a Value for humans is the
 * CLI's job (src/cli/format/value.ts).
 */

/** A string that fit, or the cut form of one that did not. */
export type StringValue = string | CutStringValue;

/** A natural plain object: its fields, plus `$more` when the field limit cut it. */
export interface ObjectValue {
  [key: string]: Value;
}

export interface UndefinedValue {
  $: 'undefined';
}
export interface SpecialNumberValue {
  $: 'number';
  value: 'NaN' | 'Infinity' | '-Infinity' | '-0';
}
export interface BigIntValue {
  $: 'bigint';
  /** Decimal digits; for values of 10^stringLimit or more, `0x` and leading hex digits. */
  value: string;
  /** Present when `value` was cut: the number of digits in full. */
  length?: number;
}
export interface SymbolValue {
  $: 'symbol';
  description?: StringValue;
}
export interface CutStringValue {
  $: 'string';
  /** The first characters (never splitting a surrogate pair). */
  value: string;
  /** The full length in UTF-16 code units. */
  length: number;
}
export type FunctionKind = 'class' | 'async' | 'generator' | 'asyncgenerator';
export interface FunctionValue {
  $: 'function';
  /** Empty for an anonymous function. */
  name: string;
  kind?: FunctionKind;
}
export interface InstanceValue {
  $: 'object';
  /** The constructor's name; null for a null-prototype object. */
  class: string | null;
  props: ObjectValue;
  /** Fields left out by the limits. */
  more?: number;
}
export interface MapValue {
  $: 'map';
  /** Present for a subclass of Map. */
  class?: string;
  size: number;
  /** The first entries; fewer than `size` when cut. */
  entries: [Value, Value][];
}
export interface SetValue {
  $: 'set';
  class?: string;
  size: number;
  values: Value[];
}
export interface DateValue {
  $: 'date';
  /** ISO 8601, or 'Invalid Date'. */
  value: string;
}
export interface RegExpValue {
  $: 'regexp';
  source: StringValue;
  flags: string;
}
export interface ErrorValue {
  $: 'error';
  /** The error's `name` property, else its class name. */
  name: StringValue;
  message: Value;
  /** The constructor's name when it differs from `name`. */
  class?: string;
  /** Present only when reading it could not run user code (docs/events.md). */
  stack?: StringValue;
  cause?: Value;
  /** AggregateError's errors. */
  errors?: Value;
  /** Own enumerable fields other than name, message, stack, cause and errors. */
  props?: ObjectValue;
  more?: number;
}
export interface BufferValue {
  $: 'buffer';
  length: number;
  /** The first bytes in hex; shorter than 2 × length when cut. */
  hex: string;
}
export interface TypedArrayValue {
  $: 'typedarray';
  class: string;
  length: number;
  /** The first elements; fewer than `length` when cut. */
  items: Value[];
}
export interface ArrayBufferValue {
  $: 'arraybuffer';
  class: 'ArrayBuffer' | 'SharedArrayBuffer';
  /** byteLength */
  length: number;
  hex: string;
}
export interface DataViewValue {
  $: 'dataview';
  length: number;
  hex: string;
}
export interface BoxedValue {
  $: 'boxed';
  /** The primitive inside `new Number(1)`, `Object('s')`, ... */
  value: Value;
}
export interface ArgumentsValue {
  $: 'arguments';
  /** Like an array: cut with a trailing `{"$":"more"}`. */
  items: Value[];
}
export interface ModuleValue {
  $: 'module';
  props: ObjectValue;
  more?: number;
}
export interface GetterValue {
  $: 'getter';
  /** The accessor has a setter too. */
  set?: true;
}
export interface SetterValue {
  $: 'setter';
}
export interface DepthValue {
  $: 'depth';
  /** What was not expanded: 'Object', 'Array', 'Map', a class name; null for a null-prototype object. */
  class: string | null;
}
export interface MoreValue {
  $: 'more';
  count: number;
}
export interface HoleValue {
  $: 'hole';
  count: number;
}
/** Kinds with no payload. */
export interface MarkerValue {
  $: 'promise' | 'proxy' | 'circular' | 'redacted' | 'unreadable' | 'global' | 'weakmap' | 'weakset';
}

export type TaggedValue =
  | UndefinedValue
  | SpecialNumberValue
  | BigIntValue
  | SymbolValue
  | CutStringValue
  | FunctionValue
  | InstanceValue
  | MapValue
  | SetValue
  | DateValue
  | RegExpValue
  | ErrorValue
  | BufferValue
  | TypedArrayValue
  | ArrayBufferValue
  | DataViewValue
  | BoxedValue
  | ArgumentsValue
  | ModuleValue
  | GetterValue
  | SetterValue
  | DepthValue
  | MoreValue
  | HoleValue
  | MarkerValue;

export type Value = null | boolean | number | string | Value[] | ObjectValue | TaggedValue;

/** True for the tagged forms (a JSON object with a string `$`). */
export function isTagged(value: Value): value is TaggedValue {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { $?: unknown }).$ === 'string';
}
