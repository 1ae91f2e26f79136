// Body instrumentation of ES modules (src/agent/source/instrument-esm.ts): one parse plans
// both rewrites, the sites a module's preamble defines (patcher/body-site.ts `define`), the
// import-cycle guard, and the compile check. Running rewritten modules is the integration
// test's part (test/integration/identity-esm.test.ts).
import { describe, expect, it } from 'vitest';
import { instrumentEsmModule } from '../../../../src/agent/source/instrument-esm.js';
import { markedSites, stripInserted } from '../../../../src/agent/source/instrument.js';
import { rewriteModuleWithAcorn } from '../../../../src/agent/source/rewrite.js';
import { bodyRegistry, bodySiteOf } from '../../../../src/agent/patcher/body-registry.js';
import { makeInstrumentFilter } from '../../../../src/agent/engines/preload/select.js';
import { resetAppRoot } from '../../../../src/agent/catalog/naming.js';

const tag = 'lttest01';

const SOURCE = `#!/usr/bin/env node
'use strict'
import { helper } from './helper.js';
export function add(a, b) { return inner(a) + b; function inner(x) { return x; } }
export const twice = (x) => add(x, x);
export async function slow(x) { await null; return import.meta.url + x; }
export class Box { constructor(v) { this.v = v; } get() { return this.v; } }
const local = function () { return helper(); };
export default (x) => x * 2
export { local };
`;

function instrumented(source = SOURCE, firstId = -1) {
  const out = instrumentEsmModule(source, tag, firstId);
  if (out === undefined) throw new Error('not instrumented');
  return out;
}

/** The rows the preamble hands `define`. */
function rows(code: string): [number, string, number, number, boolean, boolean][] {
  const match = /define\?\.\(import\.meta\.url,(\[\[.*?\]\])\)/.exec(code);
  return JSON.parse(match![1]!);
}

describe('one parse, both rewrites', () => {
  it('is the ESM rewrite of the module, plus the bodies and a preamble', () => {
    const { code } = instrumented();
    const preamble = new RegExp(String.raw`var \$${tag}R=.*?\|\|\$${tag}I;(function \$${tag}W\(s,t,v\)\{return t===void 0\?v:s\.w\(t,v\)\})?`);
    expect(preamble.test(code)).toBe(true);
    expect(stripInserted(code.replace(preamble, ''), tag)).toBe(rewriteModuleWithAcorn(SOURCE));
    // The hashbang and the directive stay first; every line keeps its number.
    expect(code.startsWith("#!/usr/bin/env node\n'use strict'\n")).toBe(true);
    expect(code.split('\n').slice(0, 10).map((line) => stripInserted(line, tag).replace(preamble, ''))).toEqual(
      rewriteModuleWithAcorn(SOURCE)!.split('\n').slice(0, 10),
    );
  });

  it('counts site ids down from firstId, and records where each marker sits in its function text', () => {
    const { code, sites } = instrumented(SOURCE, -41);
    const table = rows(code);
    expect(sites).toBe(table.length);
    // [id, name, line, once (no closure named: evaluated once), async]; strict code names a
    // closure by its own name (or its class's), never arguments.callee.
    expect(table.map((row) => [row[0], row[1], row[2], row[4], row[5]])).toEqual([
      [-41, 'add', 4, false, false],
      [-42, 'inner', 4, false, false],
      [-43, 'twice', 5, true, false],
      [-44, 'slow', 6, false, true],
      [-45, 'Box', 7, false, false],
      [-46, 'get', 7, true, false],
      [-47, 'local', 8, true, false],
      [-48, '', 9, true, false],
    ]);
    expect(code).not.toContain('arguments.callee');
    const addText = code.slice(code.indexOf('function add'));
    expect(markedSites(addText, tag)[0]).toEqual([-41, table[0]![3]]);
    const boxText = code.slice(code.indexOf('class Box'));
    expect(markedSites(boxText, tag)[0]).toEqual([-45, table[4]![3]]);
  });

  it('guards the functions an import cycle may run before the preamble: hoisted declarations and what they contain', () => {
    const { code } = instrumented();
    const guarded = (index: number) => code.includes(`if($${tag}s${index}!==void 0&&$${tag}s${index}.hooks!==null)`);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(guarded)).toEqual([true, true, false, true, false, false, false, false]);
    // An await resumes through the module's hoisted helper, which needs no site.
    expect(code).toContain(`$${tag}W($${tag}s3,$${tag}t,/*${tag}>*/await`);
  });
});

describe('what is left to the plain rewrite', () => {
  it('gives a hoisted generator the hidden parameter with the cycle guard (its site may be unset when an import cycle calls it)', () => {
    const code = instrumentEsmModule('export function* g(a) { yield a; }\nexport async function* h(b) { yield b; }\n', tag, -1)!.code;
    expect(code).toContain(`...{[$${tag}s0===void 0||$${tag}s0.hooks===null?"length":`);
    expect(code).toContain(`...{[$${tag}s1===void 0||$${tag}s1.hooks===null?"length":`);
  });

  it('a module that does not parse, has nothing to instrument, shadows globalThis, or already holds the tag', () => {
    expect(instrumentEsmModule('export function f( {', tag, -1)).toBeUndefined();
    // A generator with a rest parameter has no place for the hidden one: left to pinning.
    expect(instrumentEsmModule('export function* g(...a) { yield a; }\nexport const x = 1;', tag, -1)).toBeUndefined();
    expect(instrumentEsmModule('const globalThis = {};\nexport function f() {}', tag, -1)).toBeUndefined();
    expect(instrumentEsmModule(`export function f() { return '${tag}'; }`, tag, -1)).toBeUndefined();
  });

  it('a module acorn parses whose rewrite V8 would not compile', () => {
    // V8 refuses more than 65534 parameters; acorn has no such limit.
    const params = Array.from({ length: 70000 }, (_, i) => `a${i}`).join(',');
    const source = `export function wide(${params}) { return a0; }\nexport function fine() { return 1; }\n`;
    expect(rewriteModuleWithAcorn(source)).toBeDefined();
    expect(instrumentEsmModule(source, tag, -1)).toBeUndefined();
  });

  it('module syntax itself passes the check: imports, re-exports, import.meta, top-level await, anonymous defaults', () => {
    for (const source of [
      `import x, { y as z } from './a.js';\nexport * from './b.js';\nexport * as ns from './c.js';\nexport { z };\nexport const u = import.meta.url;\nawait null;\nexport function f() { return x; }`,
      `export default function () { return 1; }\n(function () {})`,
      `export default class { m() { return 1; } }`,
      `export default async (x) => { for await (const y of x) {} }\nexport function g() { return /import.meta/u.test(''); }`,
    ]) {
      expect(instrumentEsmModule(source, tag, -1), source).toBeDefined();
    }
  });
});

describe('the sites a preamble defines', () => {
  it('creates them in the registry under their negative ids, refuses a taken or non-negative id, and finds a function by its marker', () => {
    const registry = bodyRegistry();
    const text = `(function probe() {/*${registry.tag}<-9001*/ return 1; })`;
    // eslint-disable-next-line no-eval
    const fn = (0, eval)(text) as Function;
    const offset = text.indexOf(`/*${registry.tag}<`) - 1;
    const [site, taken, positive] = registry.define('file:///app/m.mjs', [
      [-9001, 'probe', 1, offset, true, false],
      [-9001, 'again', 1, 0, true, false],
      [5, 'positive', 1, 0, true, false],
    ]);
    expect(site?.file).toBe('/app/m.mjs');
    expect([taken, positive]).toEqual([undefined, undefined]);
    expect(bodySiteOf(fn)).toBe(site);
  });
});

describe('the selection of ES modules', () => {
  it('takes .mjs and .js files by the same globs', () => {
    resetAppRoot('/app');
    try {
      const filter = makeInstrumentFilter(['src/**'], false, /\.m?js$/i)!;
      expect(['/app/src/a.mjs', '/app/src/b.js', '/app/src/c.cjs', '/app/lib/d.mjs'].map(filter)).toEqual([true, true, false, false]);
    } finally {
      resetAppRoot();
    }
  });
});
