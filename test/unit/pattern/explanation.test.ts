import { describe, expect, it } from 'vitest';
import { explainPattern, parsePattern } from '../../../src/pattern/index.js';

const explain = (text: string): string[] => explainPattern(parsePattern(text));

describe('explainPattern', () => {
  it('gives every aspect of a pattern its own line', () => {
    expect(explain('src/users:findUser(nil, {id: X}, X, ...) when X > 3 && ms > 100 -> stack, hist')).toEqual([
      'pattern:    src/users:findUser(nil, {id: X}, X, ...) when X > 3 && ms > 100 -> stack, hist',
      "module:     modules whose path from the app root (or inside a package) matches 'src/users'; the extension is optional and a directory means its index module",
      "function:   exported functions whose path matches 'findUser'",
      'arguments:  any number; the first 3 as follows (a missing one counts as undefined)',
      '  1st: nil (null or undefined)',
      "  2nd: an object with 'id': any value, named X",
      '  3rd: the same value as X',
      'pre-guard:  X > 3 (checked before the call)',
      'post-guard: ms > 100 (checked after the call, with ret, err, threw and ms)',
      "actions:    stack (the caller's stack), hist (per-function latency quantiles instead of single calls)",
    ]);
  });

  it('describes bare module words, builtins and function glob rules', () => {
    const [, pg, fn] = explain('pg:UserRepo#*');
    expect(pg).toBe("module:     the package 'pg' (its entry module), the builtin 'node:pg', or app modules named 'pg' (file name without extension)");
    expect(fn).toBe("function:   exported functions whose path matches 'UserRepo#*' ('#' names a prototype method; '*' stays within one segment between '.' and '#')");
    expect(explain('node:fs:readFile')[1]).toContain("the builtin 'node:fs'");
    expect(explain('**:db.**')[1]).toBe('module:     every module');
    expect(explain('**:db.**')[2]).toContain("'**' crosses '.' and '#'");
    expect(explain('user*:f')[1]).toContain("whose name matches 'user*'");
    expect(explain('src/auth:~hashPassword')[2]).toBe("function:   internal functions (found in the module's source, reached by probes) whose path matches '~hashPassword'");
  });

  it('describes arities and every kind of argument pattern', () => {
    expect(explain('m:f/2')[3]).toBe('arguments:  exactly 2 arguments');
    expect(explain('m:f')[3]).toBe('arguments:  any');
    expect(explain('m:f()')[3]).toBe('arguments:  none');
    expect(explain('m:f(...)')[3]).toBe('arguments:  any number');
    const lines = explain('m:f(_, 1, "a", 2n, true, null, undefined, :promise, /x/i, [A, ...], [], {}, :string | :number)');
    expect(lines[3]).toBe('arguments:  at most 13 arguments (a missing one counts as undefined)');
    expect(lines.slice(4, 17)).toEqual([
      '  1st: anything',
      '  2nd: the number 1',
      '  3rd: the string "a"',
      '  4th: the bigint 2n',
      '  5th: the boolean true',
      '  6th: null',
      '  7th: undefined',
      '  8th: a native promise',
      '  9th: a string matching /x/i',
      '  10th: an array of at least 1 element: [any value, named A, ...]',
      '  11th: an empty array',
      '  12th: any object or function',
      '  13th: a string or a number (NaN included)',
    ]);
  });

  it('says when there is no guard or action, and when a pattern is too broad', () => {
    const lines = explain('**:*');
    expect(lines).toContain('pre-guard:  none');
    expect(lines).toContain('post-guard: none');
    expect(lines).toContain('actions:    none (each matching call is reported)');
    expect(lines.at(-1)).toContain('too broad');
    expect(explain('**:* when threw').some((line) => line.includes('too broad'))).toBe(false);
  });
});
