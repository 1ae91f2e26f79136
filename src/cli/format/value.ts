/**
 * A captured Value (src/protocol/value.ts) rendered for humans, compactly and in JS-like
 * syntax. The renderer treats every string in a Value as hostile: it may come from a
 * remote agent or spell terminal escape sequences, so all text passes through
 * `escapeText` before it is printed.
 */
import type { Value } from '../../protocol/value.js';
import { escapeText, isHighSurrogate } from './escape.js';


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
