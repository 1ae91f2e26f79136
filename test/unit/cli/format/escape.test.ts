import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeText } from '../../../../src/cli/format/escape.js';

// Anything a terminal could act on: C0, DEL, C1, line/paragraph separators, bidi controls.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('escapeText', () => {
  it('leaves printable text as it is', () => {
    expect(escapeText("it's ok 😀")).toBe("it's ok 😀");
  });

  it('writes controls, bidi marks and lone surrogates as JS escapes', () => {
    expect(escapeText('a\u001b[2J\r\n\u009b\u202e\ufeff\ud800\\')).toBe('a\\x1b[2J\\r\\n\\x9b\\u202e\\ufeff\\ud800\\\\');
  });

  it('escapes the single quote only when quoted', () => {
    expect(escapeText("a'b", true)).toBe("a\\'b");
    expect(escapeText("a'b\n", false)).toBe("a'b\\n");
  });

  it('makes any string one safe line (property)', () => {
    const anyUnit = fc.string({ unit: fc.nat(0xffff).map((code) => String.fromCharCode(code)), maxLength: 40 });
    fc.assert(
      fc.property(anyUnit, (text) => {
        expect(escapeText(text)).not.toMatch(UNSAFE);
      }),
      { numRuns: 300 },
    );
  });
});
