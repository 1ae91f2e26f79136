/**
 * Text that came from a traced process (or from any agent over the wire) printed on a
 * terminal: every character that could act on the terminal is written as a JS escape.
 */

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

export function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
