/** Quoting a string the way the pattern language reads it back (lexer) and shows it (printer, diagnostics). */

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '\v': '\\v',
};

/**
 * A string literal for `value`. Control characters, U+2028/U+2029, the BOM and lone
 * surrogates are escaped, so the text survives terminals, JSON and line-based tools.
 */
export function quoteString(value: string, quote: '"' | "'" = '"'): string {
  let out = quote;
  for (let i = 0; i < value.length; i++) {
    const char = value.charAt(i);
    const code = value.charCodeAt(i);
    if (char === quote) out += `\\${quote}`;
    else if (Object.hasOwn(SHORT_ESCAPES, char)) out += SHORT_ESCAPES[char];
    else if (code >= 0xd800 && code <= 0xdbff && isTrail(value.charCodeAt(i + 1))) {
      out += value.slice(i, i + 2);
      i++;
    } else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || code === 0xfeff || (code >= 0xd800 && code <= 0xdfff)) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return out + quote;
}

function isTrail(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
