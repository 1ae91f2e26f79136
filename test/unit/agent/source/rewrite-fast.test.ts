/**
 * The lexer path of the ESM rewrite (rewrite-fast.ts) plans only what it is certain of,
 * and then gives exactly the text the acorn path gives.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { rewriteModule, rewriteModuleWithAcorn } from '../../../../src/agent/source/rewrite.js';
import { lexerReady, planWithLexer } from '../../../../src/agent/source/rewrite-fast.js';

beforeAll(async () => {
  await lexerReady();
});

const TAKEN: Record<string, string> = {
  functions: 'export function f() {}\nexport async function g() { return 1; }\nexport function* h() {}\n',
  classes: 'export class A {}\nexport default class B extends A {}\n',
  'let, var, clause, alias': 'let a = 1;\nvar b = () => a;\nexport { a, b as c, a as d };\nexport let e;\n',
  'const never assigned': 'export const f = (x) => x + 1;\nconst g = function () {};\nexport { g };\n',
  'export star': "export * from './x.js';\nexport function f() {}\n",
  'default function with a name': 'export default function main() {}\n',
  'no exports': "import { x } from './x.js';\nconsole.log(x);\n",
  'dynamic import and import.meta': "export const load = () => import('./y.js');\nexport const here = import.meta.url;\n",
};

const LEFT_TO_ACORN: Record<string, string> = {
  'default expression': 'export default () => 1;\n',
  'default identifier': 'function f() {}\nexport default f;\n',
  'named re-export': "export { a } from './a.js';\n",
  'namespace re-export': "export * as ns from './ns.js';\n",
  'exported import binding': "import { a } from './a.js';\nexport { a };\n",
  'const assigned': 'export const f = () => 1;\nexport function reset() { f = null; }\n',
  'const incremented': 'export const n = 0;\nfunction bump() { n++; }\n',
  'const with two declarators': 'export const a = 1, b = 2;\n',
  'destructured const': 'const { a } = globalThis.x;\nexport { a };\n',
  'destructured export': 'export const { a, b } = {};\n',
  'destructuring assignment anywhere, with a const': 'export const a = 1;\nlet p, q;\n[p, q] = [1, 2];\n',
  'declares Symbol': 'const Symbol = 1;\nexport function f() {}\n',
  'string export name': 'function f() {}\nexport { f as "a b" };\n',
  'const and a nested let of the same name': 'export const a = 1;\nfunction g() { let a = 2; return a; }\n',
};

describe('the lexer path of the ESM rewrite', () => {
  for (const [name, source] of Object.entries(TAKEN)) {
    it(`plans ${name}, with the same text as acorn`, () => {
      expect(planWithLexer(source)).toBeDefined();
      const fast = rewriteModule(source);
      expect(fast).toBe(rewriteModuleWithAcorn(source));
      expect(fast).toContain('register(import.meta.url');
    });
  }

  for (const [name, source] of Object.entries(LEFT_TO_ACORN)) {
    it(`leaves ${name} to acorn`, () => {
      expect(planWithLexer(source)).toBeUndefined();
      expect(rewriteModule(source)).toBe(rewriteModuleWithAcorn(source));
    });
  }

  it('keeps line and column of every original character but the const keyword', () => {
    const source = 'export const f = (x) => x;\n';
    const out = rewriteModule(source)!;
    expect(out.startsWith('export let   f = (x) => x;\n')).toBe(true);
  });
});
