import { describe, expect, it } from 'vitest';
import { continuesOnNextLine } from '../../../src/cli/shell-input.js';

describe('shell multi-line input', () => {
  it.each([
    'function f() {',
    'function f() {\n  return 1;',
    '`abc',
    '`a ${1 +',
    '/* a comment',
    "'abc\\",
    '1 +',
    'foo(',
    '[1, 2',
    '{ a: 1,',
    'if (x) {',
    'const f = async () => {\n  await g();',
  ])('%j continues on the next line', (source) => {
    expect(continuesOnNextLine(source)).toBe(true);
  });

  it.each([
    'function f() {\n  return 1;\n}',
    '`abc\ndef`',
    '{ a: 1 }',
    'await x',
    'let x = 1',
    'process.version',
    // Errors more lines would not mend: sent as they are, the target's syntax error is shown.
    "'abc",
    '2e',
    'x)',
    'let let = 1',
  ])('%j is whole (or wrong for good)', (source) => {
    expect(continuesOnNextLine(source)).toBe(false);
  });
});
