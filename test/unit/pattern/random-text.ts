import fc from 'fast-check';

/** Fragments that make random text look enough like patterns to reach deep into the parser. */
const FRAGMENTS = [
  'm', 'src/users', 'node:fs', '*', '**', '#', '.', ':', 'f', 'findUser', '(', ')', '[', ']', '{', '}', ',', '...', '_', 'nil',
  'null', 'undefined', 'NaN', 'Infinity', 'true', 'X', 'x', 'id', '1', '-', '0.5', '1e3', '1e', '10n', '"a"', "'b'", '"', "'",
  '\\', '\\u{41}', '/', '/a/i', '/[/', '|', ' when ', 'when', '->', ' -> ', 'stack', 'hist', 'count', 'this', 'args', 'ret',
  'err', 'threw', 'ms', '&&', '||', '!', '==', '!=', '===', '=', '<', '<=', '>', '>=', '+', '*', '%', '~', ' in ', ':string',
  ':array', ':strng', ' ', '\n', '\u2028', '@', '😀', '\ud800', '`', '$', '${', '*/',
];

export const randomText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => parts.join('')),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => `m:f(${parts.join('')}`),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => `m:f(x, y) when ${parts.join('')}`),
);
