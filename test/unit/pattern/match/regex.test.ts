import { describe, expect, it } from 'vitest';
import { hasQuantifier, linearProblem, linearRegex } from '../../../../src/pattern/match/regex.js';
import { compilePattern } from '../../../../src/pattern/index.js';

describe('pattern regexes run in linear time', () => {
  it('tells regexes with quantifiers from those without', () => {
    expect(hasQuantifier('^admin')).toBe(false);
    expect(hasQuantifier('@example\\.com$')).toBe(false);
    expect(hasQuantifier('(?:a|b)c')).toBe(false);
    expect(hasQuantifier('[*+?{]')).toBe(false);
    expect(hasQuantifier('\\*')).toBe(false);
    expect(hasQuantifier('a+')).toBe(true);
    expect(hasQuantifier('a{2}')).toBe(true);
    expect(hasQuantifier('ab?')).toBe(true);
  });

  it("/(a+)+$/ against 28 a's and a b answers without backtracking", () => {
    const regex = linearRegex('(a+)+$', '');
    // A backtracking engine takes seconds here (2^28 paths); RE2 takes one pass.
    expect(regex.test(`${'a'.repeat(28)}b`)).toBe(false);
    expect(regex.test(`b${'a'.repeat(28)}`)).toBe(true);
    const matcher = compilePattern('m:f(/^(a+)+$/)');
    expect(matcher.pre(undefined, [`${'a'.repeat(28)}b`])).toBeUndefined();
    expect(matcher.pre(undefined, ['aaaa'])).toBeDefined();
  });

  it('keeps flags: i, m and s', () => {
    expect(linearRegex('^ab+c$', 'i').test('ABBC')).toBe(true);
    expect(linearRegex('^b+$', 'm').test('a\nbb\nc')).toBe(true);
    expect(linearRegex('a.+c', 's').test('a\n\nc')).toBe(true);
    expect(linearRegex('a.+c', '').test('a\n\nc')).toBe(false);
  });

  it('refuses backreferences and lookarounds with quantifiers (LT_PATTERN_BAD_REGEX)', () => {
    expect(linearProblem('(a+)\\1', '')).toMatch(/linear time/);
    expect(linearProblem('a+(?=b)', '')).toMatch(/linear time/);
    expect(() => compilePattern('m:f(/(a+)\\1/)')).toThrow(expect.objectContaining({ code: 'LT_PATTERN_BAD_REGEX' }));
  });
});
