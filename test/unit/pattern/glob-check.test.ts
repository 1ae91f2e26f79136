import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import micromatch from 'micromatch';
import { describe, expect, it } from 'vitest';
import { functionForm, globProblem, moduleForm } from '../../../src/pattern/glob-check.js';
import { repoRoot } from '../../support/paths.js';

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('globProblem', () => {
  it('accepts a glob of plain characters without compiling it, which is safe: micromatch compiles every such text', () => {
    // The premise of the shortcut, over many texts of the characters it trusts.
    const alphabet = 'abcXYZ019_$./~#-';
    const next = random(18);
    for (let n = 0; n < 3000; n++) {
      let text = '';
      const length = 1 + Math.floor(next() * 24);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(next() * alphabet.length)];
      for (const form of [moduleForm(text), functionForm(text)]) {
        expect(() => micromatch.makeRe(form, { dot: true }), form).not.toThrow();
      }
      expect(globProblem(text, 'module')).toBeUndefined();
      expect(globProblem(text, 'function')).toBeUndefined();
    }
  });

  it('compiles any other glob, and says why micromatch refuses one', () => {
    expect(globProblem('src/**/*.js', 'module')).toBeUndefined();
    expect(globProblem('{a,b}*', 'function')).toBeUndefined();
    expect(globProblem('', 'module')).toBe('a glob cannot be empty');
    expect(globProblem('x'.repeat(65537), 'function')).toMatch(/limited to 65536/);
  });

  it('lets the CLI check a plain pattern without loading micromatch, and load it for a glob that needs it', () => {
    const script = (pattern: string): string =>
      `require(${JSON.stringify(join(repoRoot, 'dist/cjs/pattern/text.js'))}).parsePattern(${JSON.stringify(pattern)});` +
      "process.stdout.write(String(Object.keys(require.cache).some((file) => file.includes('/node_modules/micromatch/'))))";
    const run = (pattern: string): string => execFileSync(process.execPath, ['-e', script(pattern)], { timeout: 20_000 }).toString();
    expect(run('src/users:UserRepo#save(id, ...) -> stack')).toBe('false');
    expect(run('src/**:find*')).toBe('true');
  });
});
