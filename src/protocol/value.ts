/**
 * The captured form of a value, and its rendering for humans.
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
 * docs/events.md ("Values") is the full reference. The renderer below treats every
 * string in a Value as hostile: it may come from a remote agent or spell terminal escape
 * sequences, so all text passes through `escapeText` before it is printed.
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

// ---------------------------------------------------------------------------------------
// Rendering

export interface RenderOptions {
  /** Cut the output to this many characters, ending with '…'. */
  maxWidth?: number;
}

/**
 * Prints a captured value compactly in JS-like syntax for humans:
 * `{role: 'admin', id: 1}`, `[1, 2, …98 more]`, `User {id: 1}`, `Map(2) {'a' => 1}`.
 * The output is one line and contains no control characters.
 */
export function renderValue(value: Value, opts: RenderOptions = {}): string {
  const text = render(value, 0);
  const max = opts.maxWidth;
  if (max === undefined || !(max >= 1) || text.length <= max) return text;
  let cut = Math.floor(max) - 1;
  if (cut > 0 && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  return `${text.slice(0, cut)}…`;
}

// A Value is bounded by its capture limits, but one from the wire may be anything: the
// renderer nests at most this deep before printing '…'.
const MAX_RENDER_DEPTH = 64;

function render(value: unknown, nesting: number): string {
  if (nesting > MAX_RENDER_DEPTH) return '…';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${renderItems(value, nesting)}]`;
      if (typeof (value as { $?: unknown }).$ === 'string') return renderTagged(value as Record<string, unknown>, nesting);
      return renderObject(value as Record<string, unknown>, nesting);
    default:
      return '?';
  }
}

function renderItems(items: readonly unknown[], nesting: number): string {
  const parts: string[] = [];
  for (const item of items) {
    if (isTag(item, 'more')) parts.push(`…${count(item.count)} more`);
    else if (isTag(item, 'hole')) parts.push(`<${count(item.count)} empty item${item.count === 1 ? '' : 's'}>`);
    else parts.push(render(item, nesting + 1));
  }
  return parts.join(', ');
}

function renderObject(object: Record<string, unknown>, nesting: number, more?: unknown): string {
  const parts: string[] = [];
  let left = more;
  for (const key of Object.keys(object)) {
    // In a natural object `$more` is the cut marker; in a tagged form's props it is user data.
    if (key === '$more' && more === undefined) {
      left = object[key];
      continue;
    }
    parts.push(`${renderKey(key)}: ${render(object[key], nesting + 1)}`);
  }
  if (typeof left === 'number' && left > 0) parts.push(`…${count(left)} more`);
  return parts.length === 0 ? '{}' : `{${parts.join(', ')}}`;
}

function renderTagged(tagged: Record<string, unknown>, nesting: number): string {
  const t = tagged as { $: string } & Record<string, unknown>;
  switch (t.$) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return text(t.value);
    case 'bigint':
      return t.length === undefined ? `${text(t.value)}n` : `${text(t.value)}…n (${count(t.length)} digits)`;
    case 'symbol':
      return t.description === undefined ? 'Symbol()' : `Symbol(${plain(t.description)})`;
    case 'string':
      return `'${typeof t.value === 'string' ? escapeText(t.value, true) : ''}…' (${count(t.length)} chars)`;
    case 'function':
      return renderFunction(t);
    case 'object': {
      const body = renderObject(asRecord(t.props), nesting, t.more ?? 0);
      if (t.class === null) return `[Object: null prototype] ${body}`;
      if (t.class === 'Object' || t.class === '' || t.class === undefined) return body;
      return `${text(t.class)} ${body}`;
    }
    case 'map': {
      const entries = Array.isArray(t.entries) ? t.entries : [];
      const parts = entries.map((entry: unknown) => {
        const pair = Array.isArray(entry) ? entry : [];
        return `${render(pair[0], nesting + 1)} => ${render(pair[1], nesting + 1)}`;
      });
      return `${text(t.class ?? 'Map')}(${count(t.size)}) {${withMore(parts, t.size)}}`;
    }
    case 'set': {
      const values = Array.isArray(t.values) ? t.values : [];
      const parts = values.map((item: unknown) => render(item, nesting + 1));
      return `${text(t.class ?? 'Set')}(${count(t.size)}) {${withMore(parts, t.size)}}`;
    }
    case 'weakmap':
      return 'WeakMap {<items unknown>}';
    case 'weakset':
      return 'WeakSet {<items unknown>}';
    case 'date':
      return text(t.value);
    case 'regexp':
      return `/${plain(t.source)}/${text(t.flags)}`;
    case 'error':
      return renderError(t, nesting);
    case 'buffer':
      return `<Buffer${hexBytes(t.hex, t.length)}>`;
    case 'typedarray': {
      const items = Array.isArray(t.items) ? t.items : [];
      const parts = items.map((item: unknown) => render(item, nesting + 1));
      return `${text(t.class)}(${count(t.length)}) [${withMore(parts, t.length)}]`;
    }
    case 'arraybuffer':
      return `${text(t.class ?? 'ArrayBuffer')}(${count(t.length)}) <${hexBytes(t.hex, t.length).trimStart()}>`;
    case 'dataview':
      return `DataView(${count(t.length)}) <${hexBytes(t.hex, t.length).trimStart()}>`;
    case 'boxed': {
      const inner = t.value;
      const kind = boxedKind(inner);
      return `[${kind}: ${render(inner, nesting + 1)}]`;
    }
    case 'arguments':
      return `[Arguments] [${renderItems(Array.isArray(t.items) ? t.items : [], nesting)}]`;
    case 'module':
      return `[Module: null prototype] ${renderObject(asRecord(t.props), nesting, t.more ?? 0)}`;
    case 'promise':
      return 'Promise {…}';
    case 'proxy':
      return '[Proxy]';
    case 'getter':
      return t.set === true ? '[Getter/Setter]' : '[Getter]';
    case 'setter':
      return '[Setter]';
    case 'circular':
      return '[Circular]';
    case 'depth':
      return t.class === null ? '[Object: null prototype]' : `[${text(t.class ?? 'Object')}]`;
    case 'redacted':
      return '<redacted>';
    case 'unreadable':
      return '[Unreadable]';
    case 'global':
      return '[global]';
    case 'more':
      return `…${count(t.count)} more`;
    case 'hole':
      return `<${count(t.count)} empty items>`;
    default:
      // A kind from a newer agent: show what it is rather than guessing its shape.
      return `[${text(t.$)}]`;
  }
}

function renderFunction(t: Record<string, unknown>): string {
  const name = typeof t.name === 'string' && t.name !== '' ? text(t.name) : '';
  switch (t.kind) {
    case 'class':
      return name === '' ? '[class (anonymous)]' : `[class ${name}]`;
    case 'async':
      return name === '' ? '[AsyncFunction (anonymous)]' : `[AsyncFunction: ${name}]`;
    case 'generator':
      return name === '' ? '[GeneratorFunction (anonymous)]' : `[GeneratorFunction: ${name}]`;
    case 'asyncgenerator':
      return name === '' ? '[AsyncGeneratorFunction (anonymous)]' : `[AsyncGeneratorFunction: ${name}]`;
    default:
      return name === '' ? '[Function (anonymous)]' : `[Function: ${name}]`;
  }
}

function renderError(t: Record<string, unknown>, nesting: number): string {
  const name = plain(t.name);
  const message = typeof t.message === 'string' ? text(t.message) : isTag(t.message, 'string') ? plain(t.message) : render(t.message, nesting + 1);
  let head = message === '' ? name : `${name}: ${message}`;
  if (typeof t.class === 'string' && t.class !== '') head = `${text(t.class)} [${head}]`;
  const parts: string[] = [];
  if (t.props !== undefined) {
    const props = asRecord(t.props);
    for (const key of Object.keys(props)) parts.push(`${renderKey(key)}: ${render(props[key], nesting + 1)}`);
  }
  if (t.errors !== undefined) parts.push(`[errors]: ${render(t.errors, nesting + 1)}`);
  if (t.cause !== undefined) parts.push(`[cause]: ${render(t.cause, nesting + 1)}`);
  if (typeof t.more === 'number' && t.more > 0) parts.push(`…${count(t.more)} more`);
  return parts.length === 0 ? head : `${head} {${parts.join(', ')}}`;
}

function withMore(parts: string[], total: unknown): string {
  const left = typeof total === 'number' ? total - parts.length : 0;
  if (left > 0) parts.push(`…${count(left)} more`);
  return parts.join(', ');
}

function hexBytes(hex: unknown, length: unknown): string {
  const digits = typeof hex === 'string' ? hex : '';
  let out = '';
  for (let i = 0; i + 1 < digits.length; i += 2) {
    const pair = digits.slice(i, i + 2);
    out += /^[0-9a-f]{2}$/i.test(pair) ? ` ${pair}` : ' ??';
  }
  const shown = Math.floor(digits.length / 2);
  if (typeof length === 'number' && length > shown) out += ` …${count(length - shown)} more bytes`;
  return out;
}

function boxedKind(inner: unknown): string {
  switch (typeof inner) {
    case 'number':
      return 'Number';
    case 'string':
      return 'String';
    case 'boolean':
      return 'Boolean';
    default:
      if (isTag(inner, 'number')) return 'Number';
      if (isTag(inner, 'string')) return 'String';
      if (isTag(inner, 'bigint')) return 'BigInt';
      if (isTag(inner, 'symbol')) return 'Symbol';
      return 'Object';
  }
}

function isTag<K extends string>(value: unknown, kind: K): value is { $: K } & Record<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { $?: unknown }).$ === kind;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** A count from a Value: only a number is printed as one. */
function count(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : '?';
}

/** Text printed bare (names, messages, flags): escaped, never quoted. */
function text(value: unknown): string {
  return typeof value === 'string' ? escapeText(value) : typeof value === 'number' ? String(value) : '?';
}

/** A StringValue printed bare: a cut one ends with '…'. */
function plain(value: unknown): string {
  if (typeof value === 'string') return escapeText(value);
  if (isTag(value, 'string')) return `${text(value.value)}…`;
  return '?';
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function renderKey(key: string): string {
  return IDENTIFIER.test(key) ? key : quote(key);
}

function quote(value: string): string {
  return `'${escapeText(value, true)}'`;
}

// Everything that could move the cursor, recolour, retitle or reorder a terminal, or
// break the single-line shape: C0 and C1 controls, DEL, line and paragraph separators,
// bidirectional overrides and isolates, BOM, lone surrogates; plus backslash and (in
// quotes) the quote itself.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f\u007f-\u009f\\'\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]/;

const SHORT_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 92: '\\\\' };

/**
 * Makes untrusted text safe to print on a terminal: control and bidi characters become
 * JS escapes (`\n`, `\x1b`, `\u202e`), so the output is one line of printable text.
 * With `quoted`, a single quote is escaped too.
 */
export function escapeText(value: string, quoted = false): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isHighSurrogate(code) && i + 1 < value.length && isLowSurrogate(value.charCodeAt(i + 1))) {
      out += value[i]! + value[i + 1]!;
      i++;
      continue;
    }
    const short = SHORT_ESCAPES[code];
    if (short !== undefined) out += short;
    else if (code === 39) out += quoted ? "\\'" : "'";
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${hex2(code)}`;
    else if (
      code === 0x061c ||
      code === 0x200e ||
      code === 0x200f ||
      (code >= 0x2028 && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0xfeff ||
      (code >= 0xd800 && code <= 0xdfff)
    ) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += value[i]!;
  }
  return out;
}

function hex2(code: number): string {
  return code.toString(16).padStart(2, '0');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
