import { describe, expect, it } from 'vitest';
import type { LivetraceError } from '../../../src/protocol/errors.js';
import { isBareGlob } from '../../../src/pattern/lex/chars.js';
import { isLexableRegexSource } from '../../../src/pattern/lex/scan.js';
import type { Token } from '../../../src/pattern/lex/tokens.js';
import { tokenize } from '../../../src/pattern/lexer.js';
import { thrown } from './thrown.js';

/** Tokens as short strings: kind:value. */
function kinds(text: string): string[] {
  return tokenize(text).map((token: Token) => {
    switch (token.kind) {
      case 'eof':
        return 'eof';
      case 'regex':
        return `regex:/${token.source}/${token.flags}`;
      case 'glob':
        return `glob${token.quoted ? '"' : ''}:${token.value}`;
      default:
        return `${token.kind}:${String(token.value)}`;
    }
  });
}

function lexError(text: string): LivetraceError {
  return thrown(() => tokenize(text));
}

describe('lexer: the head (globs)', () => {
  it('reads module and function globs with glob characters', () => {
    expect(kinds('src/**/repo*:UserRepo#save')).toEqual(['glob:src/**/repo*', 'punct::', 'glob:UserRepo#save', 'eof']);
    expect(kinds('@scope/pkg:db.users.find')).toEqual(['glob:@scope/pkg', 'punct::', 'glob:db.users.find', 'eof']);
    expect(kinds('src/{a,b}:[fg]?x')).toEqual(['glob:src/{a,b}', 'punct::', 'glob:[fg]?x', 'eof']);
  });

  it('keeps node: with the module glob only when another colon follows', () => {
    expect(kinds('node:fs:readFile')).toEqual(['glob:node:fs', 'punct::', 'glob:readFile', 'eof']);
    expect(kinds('node:fs/promises : readFile')).toEqual(['glob:node:fs/promises', 'punct::', 'glob:readFile', 'eof']);
    expect(kinds('node:readFile')).toEqual(['glob:node', 'punct::', 'glob:readFile', 'eof']);
    expect(kinds('node:readFile(x)')).toEqual(['glob:node', 'punct::', 'glob:readFile', 'punct:(', 'ident:x', 'punct:)', 'eof']);
  });

  it('allows spaces around the colon', () => {
    expect(kinds('* :*')).toEqual(['glob:*', 'punct::', 'glob:*', 'eof']);
    expect(kinds('  pg  :  query  ')).toEqual(['glob:pg', 'punct::', 'glob:query', 'eof']);
  });

  it('reads quoted globs with escapes', () => {
    expect(kinds(`'my dir/x':"a b\\"c"`)).toEqual(['glob":my dir/x', 'punct::', 'glob":a b"c', 'eof']);
  });

  it('ends the function glob before /, (, -> and spaces', () => {
    expect(kinds('m:f/2')).toEqual(['glob:m', 'punct::', 'glob:f', 'punct:/', 'number:2', 'eof']);
    expect(kinds('m:f->stack')).toEqual(['glob:m', 'punct::', 'glob:f', 'punct:->', 'ident:stack', 'eof']);
    expect(kinds('m:a-b(x)')).toEqual(['glob:m', 'punct::', 'glob:a-b', 'punct:(', 'ident:x', 'punct:)', 'eof']);
    expect(kinds('m:f when x')).toEqual(['glob:m', 'punct::', 'glob:f', 'ident:when', 'ident:x', 'eof']);
  });

  it('says which globs print bare', () => {
    expect(isBareGlob('src/**/x*', 'module')).toBe(true);
    expect(isBareGlob('node:fs', 'module')).toBe(true);
    expect(isBareGlob('a:b', 'module')).toBe(false);
    expect(isBareGlob('a/b', 'function')).toBe(false);
    expect(isBareGlob('with space', 'module')).toBe(false);
    expect(isBareGlob('', 'module')).toBe(false);
    expect(isBareGlob('né', 'function')).toBe(true);
    expect(isBareGlob('a\u2028b', 'function')).toBe(false);
  });
});

describe('lexer: expressions', () => {
  it('reads numbers, bigints, and refuses malformed ones', () => {
    expect(kinds('m:f(42, 1.5, 1e3, 1.5e-7, 2E+2, 10n, 1e999)').filter((t) => /number|bigint/.test(t))).toEqual([
      'number:42',
      'number:1.5',
      'number:1000',
      'number:1.5e-7',
      'number:200',
      'bigint:10',
      'number:Infinity',
    ]);
    expect(lexError('m:f(1e)').column).toBe(7);
    expect(lexError('m:f(3abc)').expected).toBe('the end of the number');
    expect(lexError('m:f(1.5n)').column).toBe(8);
  });

  it('reads strings in both quote styles with every escape', () => {
    const [, , , , token] = tokenize(String.raw`m:f('a\'b\n\t\\\"\x41\u0042\u{1F600}\0\/\r\b\f\v')`);
    expect(token).toMatchObject({ kind: 'string', value: "a'b\n\t\\\"AB\u{1F600}\0/\r\b\f\v" });
    const [, , , , double] = tokenize('m:f("it\'s")');
    expect(double).toMatchObject({ kind: 'string', value: "it's" });
  });

  it('refuses bad strings with a column and what was expected', () => {
    const unterminated = lexError("m:f('abc");
    expect(unterminated.column).toBe(9);
    expect(unterminated.expected).toContain('closing single quote');
    expect(unterminated.found).toBe('end of pattern');
    expect(lexError(String.raw`m:f("\q")`).column).toBe(6);
    expect(lexError('m:f("a\nb")').found).toBe('a line break');
    expect(lexError(String.raw`m:f("\u{110000}")`).code).toBe('LT_PATTERN_SYNTAX');
    expect(lexError(String.raw`m:f("\x4")`).expected).toBe('2 hexadecimal digits');
    expect(lexError(String.raw`m:f("\01")`).code).toBe('LT_PATTERN_SYNTAX');
  });

  it('tells a regex from a division by the previous token', () => {
    expect(kinds(String.raw`m:f(/a\/b[/]/i)`)).toContain('regex:/a\\/b[/]/i');
    expect(kinds('m:f(a) when a / 2 > 1')).toContain('punct:/');
    expect(kinds('m:f(a) when (a) / 2')).toContain('punct:/');
    expect(kinds('m:f(a) when args[0] / 2')).toContain('punct:/');
    expect(kinds('m:f(a) when a ~ /x/m')).toContain('regex:/x/m');
    expect(kinds('m:f(a | /x/, {k: /y/})').filter((t) => t.startsWith('regex'))).toEqual(['regex:/x/', 'regex:/y/']);
  });

  it('refuses unterminated and empty regexes', () => {
    expect(lexError('m:f(/abc').found).toBe('end of pattern');
    expect(lexError('m:f(/a[/]').column).toBe(10);
    expect(lexError('m:f(//)').expected).toContain('regular expression');
  });

  it('reads every punctuator, longest first', () => {
    expect(kinds('m:f(...) when a == b != c <= d >= e && f || !g < h > i + j - k * l % m ~ /n/ -> stack')).toEqual([
      'glob:m',
      'punct::',
      'glob:f',
      'punct:(',
      'punct:...',
      'punct:)',
      'ident:when',
      'ident:a',
      'punct:==',
      'ident:b',
      'punct:!=',
      'ident:c',
      'punct:<=',
      'ident:d',
      'punct:>=',
      'ident:e',
      'punct:&&',
      'ident:f',
      'punct:||',
      'punct:!',
      'ident:g',
      'punct:<',
      'ident:h',
      'punct:>',
      'ident:i',
      'punct:+',
      'ident:j',
      'punct:-',
      'ident:k',
      'punct:*',
      'ident:l',
      'punct:%',
      'ident:m',
      'punct:~',
      'regex:/n/',
      'punct:->',
      'ident:stack',
      'eof',
    ]);
  });

  it('names the JavaScript near misses', () => {
    expect(lexError('m:f(a) when a === 1').expected).toContain("'=='");
    expect(lexError('m:f(a) when a !== 1').expected).toContain("'!='");
    expect(lexError('m:f(a) when a = 1').column).toBe(15);
    expect(lexError('m:f(a) when a & 1').expected).toBe("'&&'");
    expect(lexError('m:f(a, ..)').expected).toBe("'...'");
  });

  it('turns a character that starts no token into an invalid token for the parser', () => {
    expect(kinds('m:f(@)')).toContain('invalid:@');
  });

  it('counts columns in code points', () => {
    // m : f ( ' 😀 ' , space ' x: the end of the pattern is the 12th code point (13th UTF-16 unit).
    expect(lexError("m:f('😀', 'x").column).toBe(12);
  });

  it('reads unicode names', () => {
    expect(kinds('m:f(café, $x, _y)')).toEqual(expect.arrayContaining(['ident:café', 'ident:$x', 'ident:_y']));
  });

  it('knows which regex sources print back', () => {
    expect(isLexableRegexSource('a\\/b')).toBe(true);
    expect(isLexableRegexSource('[/]')).toBe(true);
    expect(isLexableRegexSource('a/b')).toBe(false);
    expect(isLexableRegexSource('a\nb')).toBe(false);
    expect(isLexableRegexSource('')).toBe(false);
    expect(isLexableRegexSource('a\\')).toBe(false);
  });
});
