import { describe, expect, it } from 'vitest';
import { REGISTRAR_KEY, rewriteModule } from '../../../../src/agent/source/rewrite.js';

/** The record literal the rewrite appended, parsed back (the closures left out). */
function recordOf(out: string): { locals: string[]; fixed: (string | null)[]; exports: [string, number][]; unreachable: [string, string][]; reexports: string[][]; stars: string[] } {
  const at = out.lastIndexOf(`register(import.meta.url,{`);
  expect(at).toBeGreaterThan(-1);
  const text = out.slice(at);
  const field = (name: string): unknown => {
    const match = new RegExp(`[{,]${name}:(\\[.*?\\])(?=,[a-z]+:)`).exec(text);
    if (!match) throw new Error(`no ${name} in ${text}`);
    return JSON.parse(match[1]!);
  };
  return {
    locals: field('locals') as string[],
    fixed: field('fixed') as (string | null)[],
    exports: field('exports') as [string, number][],
    unreachable: field('unreachable') as [string, string][],
    reexports: field('reexports') as string[][],
    stars: field('stars') as string[],
  };
}

/** The source above the appended statement. */
function body(out: string): string {
  return out.slice(0, out.lastIndexOf('\n;'));
}

describe('rewriteModule', () => {
  it('appends one registration and leaves every line above it in place', () => {
    const source = 'export function f(a) {\n  return a;\n}\nexport let n = 1;\nexport var v = 2;\nexport class C {}\n';
    const out = rewriteModule(source)!;
    expect(body(out)).toBe(source);
    expect(out).toContain(`globalThis[Symbol.for(${JSON.stringify(REGISTRAR_KEY)})]?.register(`);
    const record = recordOf(out);
    expect(record.locals).toEqual(['f', 'n', 'v', 'C']);
    expect(record.fixed).toEqual([null, null, null, null]);
    expect(record.exports).toEqual([['f', 0], ['n', 1], ['v', 2], ['C', 3]]);
    expect(out).toContain('case 0:f=v;return;');
  });

  it('turns a never-assigned const into a let of the same width', () => {
    const source = 'export const f = () => 1, g = () => 2;\nconst h = () => 3;\nexport { h as renamed };\n';
    const out = rewriteModule(source)!;
    const lines = body(out).split('\n');
    expect(lines[0]).toBe('export let   f = () => 1, g = () => 2;');
    expect(lines[1]).toBe('let   h = () => 3;');
    expect(lines.map((l) => l.length)).toEqual(source.split('\n').slice(0, lines.length).map((l) => l.length));
    expect(recordOf(out).exports).toEqual([['f', 0], ['g', 1], ['renamed', 2]]);
  });

  it('keeps a const the module assigns to (its TypeError must stay) and says why', () => {
    const source = 'export const f = () => 1, g = 2;\nexport function reset() { f = null; }\n';
    const out = rewriteModule(source)!;
    expect(body(out).startsWith('export const f')).toBe(true);
    const record = recordOf(out);
    expect(record.fixed[0]).toMatch(/assigns to/);
    expect(record.fixed[1]).toMatch(/assigns to/);
    expect(out).not.toContain('case 0:f=v');
  });

  it('sees assignments through destructuring, updates and for-of heads', () => {
    for (const assignment of ['[a] = [1];', '({ x: a } = {});', 'a++;', 'for (a of []) {}', 'for (a in {}) {}']) {
      const out = rewriteModule(`export const a = 1;\nfunction later() { ${assignment} }\n`)!;
      expect(recordOf(out).fixed[0], assignment).not.toBeNull();
    }
  });

  it('rewrites an anonymous default expression so its name stays "default"', () => {
    const source = 'const x = 1;\nexport default (a) => a + x;\n';
    const out = rewriteModule(source)!;
    expect(body(out).split('\n')[1]).toBe('let $ltd={default: (a) => a + x}.default;');
    expect(out).toContain('export{$ltd as default};');
    expect(recordOf(out).exports).toEqual([['default', 0]]);
  });

  it('ends an anonymous default class like the declaration did (a next line starting with [ stays separate)', () => {
    const out = rewriteModule('export default class {}\n[1].forEach(f);\n')!;
    expect(body(out).split('\n')[0]).toBe('let $ltd={default: class {}}.default;');
  });

  it('finds the default keyword past comments and parentheses', () => {
    const out = rewriteModule('export /* default */ default /* x */ (function () {});\n')!;
    expect(body(out)).toBe('let $ltd={default: /* x */ (function () {})}.default;\n');
  });

  it('picks a local name the module does not use', () => {
    const out = rewriteModule('const $ltd = 1;\nexport default () => $ltd;\n')!;
    expect(out).toContain('let $ltd1={default:');
  });

  it('binds named default declarations to their own variable and reports anonymous default functions', () => {
    expect(recordOf(rewriteModule('export default function greet() {}\n')!).exports).toEqual([['default', 0]]);
    expect(recordOf(rewriteModule('export default class Greeter {}\n')!).locals).toEqual(['Greeter']);
    const anonymous = recordOf(rewriteModule('export default function () {}\n')!);
    expect(anonymous.locals).toEqual([]);
    expect(anonymous.unreachable[0]?.[0]).toBe('default');
  });

  it('records re-exports, imported bindings re-exported, and export *', () => {
    const source = [
      "import { a as b } from './a.mjs';",
      "import d from './d.mjs';",
      "import * as ns from './ns.mjs';",
      'export { b as c, d, ns };',
      "export { x, y as z, default as w } from './x.mjs';",
      "export * from './star.mjs';",
      "export * as all from './all.mjs';",
    ].join('\n');
    const record = recordOf(rewriteModule(source)!);
    expect(record.locals).toEqual([]);
    expect(record.reexports).toEqual([
      ['c', './a.mjs', 'a'],
      ['d', './d.mjs', 'default'],
      ['ns', './ns.mjs', '*'],
      ['x', './x.mjs', 'x'],
      ['z', './x.mjs', 'y'],
      ['w', './x.mjs', 'default'],
      ['all', './all.mjs', '*'],
    ]);
    expect(record.stars).toEqual(['./star.mjs']);
  });

  it('gives two export names of one variable one local', () => {
    const record = recordOf(rewriteModule('function f() {}\nexport { f, f as g };\n')!);
    expect(record.locals).toEqual(['f']);
    expect(record.exports).toEqual([['f', 0], ['g', 0]]);
  });

  it('handles destructured exports, hashbangs and top-level await', () => {
    const source = '#!/usr/bin/env node\nexport const { a, b: [c] } = await Promise.resolve({ a: 1, b: [2] });\n';
    const out = rewriteModule(source)!;
    expect(body(out).startsWith('#!/usr/bin/env node\nexport let   { a')).toBe(true);
    expect(recordOf(out).locals).toEqual(['a', 'c']);
  });

  it('registers a module with no exports too (it is known, with nothing to patch)', () => {
    expect(recordOf(rewriteModule("console.log('hi');\n")!).locals).toEqual([]);
  });

  it('leaves alone what it cannot handle', () => {
    expect(rewriteModule('export const = ;')).toBeUndefined();
    expect(rewriteModule('const Symbol = 1;\nexport function f() {}\n')).toBeUndefined();
    expect(rewriteModule('let globalThis = {};\nexport function f() {}\n')).toBeUndefined();
  });
});
