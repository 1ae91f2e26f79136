import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capture } from '../../../../src/agent/capture/capturer.js';
import type { Value } from '../../../../src/protocol/value.js';
import { renderValue } from '../../../../src/cli/format/value.js';

// Anything a terminal could act on: C0, DEL, C1, line/paragraph separators, bidi controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return true;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

describe('renderValue', () => {
  const cases: [string, Value, string][] = [
    ['a plain object', { role: 'admin', id: 1 }, "{role: 'admin', id: 1}"],
    ['an empty object and array', { a: {}, b: [] }, '{a: {}, b: []}'],
    ['a cut array', [1, 2, { $: 'more', count: 98 }], '[1, 2, …98 more]'],
    ['a sparse array', [1, { $: 'hole', count: 2 }, 4], '[1, <2 empty items>, 4]'],
    ['a cut object', { a: 1, $more: 3 }, '{a: 1, …3 more}'],
    ['a class instance', { $: 'object', class: 'User', props: { id: 1 } }, 'User {id: 1}'],
    ['a cut class instance', { $: 'object', class: 'User', props: { id: 1 }, more: 2 }, 'User {id: 1, …2 more}'],
    ['an object owning "$" keys', { $: 'object', class: 'Object', props: { $: 1, $more: 2 } }, '{$: 1, $more: 2}'],
    ['a null-prototype object', { $: 'object', class: null, props: { a: 1 } }, '[Object: null prototype] {a: 1}'],
    ['quoted keys', { 'a-b': 1, 'it\'s': 2, '': 3 }, "{'a-b': 1, 'it\\'s': 2, '': 3}"],
    ['a Map', { $: 'map', size: 3, entries: [['a', 1], [{ k: 1 }, [2]]] }, "Map(3) {'a' => 1, {k: 1} => [2], …1 more}"],
    ['a Map subclass', { $: 'map', class: 'Registry', size: 0, entries: [] }, 'Registry(0) {}'],
    ['a Set', { $: 'set', size: 2, values: [1, 'x'] }, "Set(2) {1, 'x'}"],
    ['a WeakMap', { $: 'weakmap' }, 'WeakMap {<items unknown>}'],
    ['undefined', { $: 'undefined' }, 'undefined'],
    ['NaN', { $: 'number', value: 'NaN' }, 'NaN'],
    ['-0', { $: 'number', value: '-0' }, '-0'],
    ['a bigint', { $: 'bigint', value: '10' }, '10n'],
    ['a cut bigint', { $: 'bigint', value: '0x1f', length: 300 }, '0x1f…n (300 digits)'],
    ['a symbol', { $: 'symbol', description: 'x' }, 'Symbol(x)'],
    ['a symbol without description', { $: 'symbol' }, 'Symbol()'],
    ['a cut string', { $: 'string', value: 'abc', length: 10000 }, "'abc…' (10000 chars)"],
    ['a function', { $: 'function', name: 'f' }, '[Function: f]'],
    ['an anonymous function', { $: 'function', name: '' }, '[Function (anonymous)]'],
    ['a class', { $: 'function', name: 'K', kind: 'class' }, '[class K]'],
    ['an async function', { $: 'function', name: 'load', kind: 'async' }, '[AsyncFunction: load]'],
    ['a date', { $: 'date', value: '1970-01-01T00:00:00.000Z' }, '1970-01-01T00:00:00.000Z'],
    ['a regexp', { $: 'regexp', source: 'a.b', flags: 'gi' }, '/a.b/gi'],
    ['an error', { $: 'error', name: 'TypeError', message: 'boom', props: { code: 'E' } }, "TypeError: boom {code: 'E'}"],
    [
      'an error with class and cause',
      { $: 'error', name: 'Error', class: 'NotFound', message: 'gone', cause: { $: 'error', name: 'Error', message: 'io' } },
      'NotFound [Error: gone] {[cause]: Error: io}',
    ],
    ['an error with a getter message', { $: 'error', name: 'Error', message: { $: 'getter' } }, 'Error: [Getter]'],
    ['a Buffer', { $: 'buffer', length: 5, hex: '6865' }, '<Buffer 68 65 …3 more bytes>'],
    ['a typed array', { $: 'typedarray', class: 'Uint8Array', length: 3, items: [1, 2] }, 'Uint8Array(3) [1, 2, …1 more]'],
    ['an ArrayBuffer', { $: 'arraybuffer', class: 'ArrayBuffer', length: 2, hex: '0001' }, 'ArrayBuffer(2) <00 01>'],
    ['a DataView', { $: 'dataview', length: 1, hex: 'ff' }, 'DataView(1) <ff>'],
    ['a boxed number', { $: 'boxed', value: 1 }, '[Number: 1]'],
    ['a boxed string', { $: 'boxed', value: 's' }, "[String: 's']"],
    ['an arguments object', { $: 'arguments', items: [1, 2] }, '[Arguments] [1, 2]'],
    ['a module namespace', { $: 'module', props: { a: 1 } }, '[Module: null prototype] {a: 1}'],
    ['markers', [{ $: 'promise' }, { $: 'proxy' }, { $: 'getter' }, { $: 'getter', set: true }, { $: 'setter' }], '[Promise {…}, [Proxy], [Getter], [Getter/Setter], [Setter]]'],
    ['more markers', [{ $: 'circular' }, { $: 'redacted' }, { $: 'unreadable' }, { $: 'global' }], '[[Circular], <redacted>, [Unreadable], [global]]'],
    ['depth markers', { a: { $: 'depth', class: 'Object' }, b: { $: 'depth', class: 'Array' }, c: { $: 'depth', class: null } }, '{a: [Object], b: [Array], c: [Object: null prototype]}'],
    ['a kind from a newer agent', { $: 'future', x: 1 } as unknown as Value, '[future]'],
  ];

  it.each(cases)('renders %s', (_name, value, expected) => {
    expect(renderValue(value)).toBe(expected);
  });

  it('escapes everything a hostile string could do to a terminal', () => {
    const hostile = 'a\u001b[2J\u001b]0;title\u0007\r\nb\u009b31m\u2028c\u202eevil\u2066\t\\\'"\ud800x\ufeff\u0000';
    const rendered = renderValue(hostile);
    expect(rendered).toBe(
      "'a\\x1b[2J\\x1b]0;title\\x07\\r\\nb\\x9b31m\\u2028c\\u202eevil\\u2066\\t\\\\\\'\"\\ud800x\\ufeff\\x00'",
    );
    expect(UNSAFE.test(rendered)).toBe(false);
    // Pairs are kept: emoji print as themselves.
    expect(renderValue('ok 😀')).toBe("'ok 😀'");
  });

  it('escapes hostile text wherever a Value carries it', () => {
    const evil = '\u001b[31mred\u001b[0m\n';
    const values: Value[] = [
      { [evil]: 1 },
      { $: 'object', class: evil, props: {} },
      { $: 'depth', class: evil },
      { $: 'function', name: evil },
      { $: 'symbol', description: evil },
      { $: 'symbol', description: { $: 'string', value: evil, length: 900 } },
      { $: 'regexp', source: evil, flags: evil },
      { $: 'error', name: evil, message: evil, class: evil, props: { [evil]: evil } },
      { $: 'map', class: evil, size: 1, entries: [[evil, evil]] },
      { $: 'date', value: evil },
      { $: 'bigint', value: evil },
      { $: 'number', value: evil } as unknown as Value,
      { $: 'typedarray', class: evil, length: 1, items: [evil] },
      { $: 'buffer', length: 2, hex: `${evil}zz` },
      { $: evil } as unknown as Value,
      { $: 'string', value: evil, length: evil as unknown as number },
      { $: 'more', count: evil } as unknown as Value,
    ];
    for (const value of values) {
      const rendered = renderValue(value);
      expect(UNSAFE.test(rendered), rendered).toBe(false);
      expect(rendered).not.toContain('\u001b');
    }
  });

  it('cuts to maxWidth with an ellipsis, never inside a surrogate pair', () => {
    expect(renderValue({ a: 'x'.repeat(50) }, { maxWidth: 10 })).toBe("{a: 'xxxx…");
    expect(renderValue([1, 2], { maxWidth: 10 })).toBe('[1, 2]');
    expect(renderValue('😀😀😀', { maxWidth: 4 })).toBe("'😀…");
  });

  it('survives malformed values from the wire', () => {
    const odd = [
      { $: 'map' },
      { $: 'set', values: 'no' },
      { $: 'object', class: 7, props: null },
      { $: 'error' },
      { $: 'typedarray' },
      { $: 'arguments', items: {} },
      { $: 'boxed' },
    ] as unknown as Value[];
    for (const value of odd) expect(typeof renderValue(value)).toBe('string');
  });

  it('prints any string and any captured value as one safe line (property)', () => {
    const anyUnit = fc.string({ unit: fc.nat(0xffff).map((code) => String.fromCharCode(code)), maxLength: 40 });
    fc.assert(
      fc.property(anyUnit, (text) => {
        const rendered = renderValue(text);
        expect(UNSAFE.test(rendered)).toBe(false);
        expect(hasLoneSurrogate(rendered)).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withBoxedValues: true, key: anyUnit, values: [anyUnit] }), (input) => {
        const rendered = renderValue(capture(input).value);
        expect(UNSAFE.test(rendered)).toBe(false);
        expect(hasLoneSurrogate(rendered)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
