// Body instrumentation (src/agent/source/instrument.ts, src/agent/patcher/body-site.ts): each
// case runs a module's code as written and as rewritten, and compares; then hooks a function
// through the patcher and checks the events.
import { describe, expect, it } from 'vitest';
import { load, rewrite } from './module-case.js';
import { bodyRegistry, bodySiteOf, originalText } from '../../../../src/agent/patcher/body-registry.js';
import { BodySite } from '../../../../src/agent/patcher/body-site.js';
import { markedSites, stripInserted } from '../../../../src/agent/source/instrument.js';
import { addHook, removeHook, siteFor, siteOfWrapper } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';
import { pinExports } from '../../../../src/agent/engines/preload/cjs.js';
import { RecordingHook } from '../patcher/recording-hook.js';

const nativeToString = Function.prototype.toString;

/** Runs `code` both ways; `run` gets the exports and returns something comparable. */
function same(code: string, run: (exports: Record<string, any>) => unknown): { plain: unknown; instrumented: unknown; exports: Record<string, any> } {
  const plain = outcome(() => run(load(code)));
  const exports = load(rewrite(code));
  const instrumented = outcome(() => run(exports));
  expect(instrumented).toEqual(plain);
  return { plain, instrumented, exports };
}

function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (error) {
    return { threw: String(error) };
  }
}

describe('the rewrite keeps semantics', () => {
  it('this, sloppy-mode arguments aliasing, arguments.callee', () => {
    same(
      `exports.alias = function (a) { arguments[0] = 2; return [a, arguments.length]; };
       exports.self = function () { return this === exports; };
       exports.callee = function f() { return arguments.callee === f; };`,
      (e) => [e.alias(1, 9), e.self(), e.callee()],
    );
  });

  it('new.target, constructors, derived constructors and super', () => {
    same(
      `function F(x) { if (!new.target) return 'call'; this.x = x; }
       class A { constructor(x) { this.x = x; } m() { return 'A' + this.x; } static s() { return 'S'; } }
       class B extends A { constructor() { super(1); this.y = 2; } m() { return 'B' + super.m(); } }
       class C extends A { constructor() { return { z: 3 }; } }
       class D extends A { constructor() { } }
       exports.F = F; exports.A = A; exports.B = B; exports.C = C; exports.D = D;`,
      (e) => [e.F(), new e.F(4), new e.B(), new e.B().m(), e.A.s(), new e.C(), outcome(() => new e.D())],
    );
  });

  it('function declarations in the body (now inside a try block), sloppy and strict', () => {
    same(
      `exports.hoisted = function () { return g(); function g() { return typeof h; } function h() {} };
       exports.strict = function () { 'use strict'; return [typeof g, g()]; function g() { return this; } };
       exports.annexB = function () { var before = typeof k; { function k() {} } return [before, typeof k]; };
       exports.varToo = function () { var g = 1; function g() {} return typeof g; };
       exports.param = function (g) { function g() {} return typeof g; };`,
      (e) => [e.hoisted(), e.strict(), e.annexB(), e.varToo(), e.param(1)],
    );
  });

  it('a directive prologue written without semicolons keeps its meaning', () => {
    same(
      `exports.f = function () {
        "use strict"
        'another'
        return this === undefined;
      };
      exports.g = function () { "use strict" };`,
      (e) => {
        const f = e.f;
        return [f(), e.g()];
      },
    );
  });

  it('default parameters, rest, destructuring, directive prologues', () => {
    same(
      `'use strict';
       exports.defaults = function (a, b = a + 1, ...rest) { return [a, b, rest, arguments.length]; };
       exports.destructure = function ({ a }, [b]) { return a + b; };
       exports.thisStrict = function () { return this; };
       exports.prologue = function () { "use strict"; 'another'; return typeof this; };`,
      (e) => [e.defaults(1), e.defaults(1, 5, 6, 7), e.destructure({ a: 1 }, [2]), e.thisStrict.call(undefined), e.prologue()],
    );
  });

  it('returns: ASI, sequences, nested functions, try/finally, switch, labels', () => {
    same(
      `exports.asi = function () { return
         1; };
       exports.sequence = function () { let i = 0; return i++, i++, i; };
       exports.nested = function () { const f = () => { return 1; }; function g() { return 2; } return f() + g(); };
       exports.finallyReturn = function () { try { return 1; } finally { exports.log = 'finally'; } };
       exports.override = function () { try { return 1; } finally { return 2; } };
       exports.switcher = function (x) { switch (x) { case 1: return 'one'; default: return 'other'; } };
       exports.label = function () { outer: for (;;) { for (;;) { break outer; } } return 'out'; };
       exports.thrower = function () { throw new RangeError('no'); };
       exports.caught = function () { try { exports.thrower(); } catch (e) { return e.message; } };`,
      (e) => [e.asi(), e.sequence(), e.nested(), e.finallyReturn(), e.log, e.override(), e.switcher(1), e.switcher(2), e.label(), outcome(() => e.thrower()), e.caught()],
    );
  });

  it('arrows: expression bodies, object literals, curried, lexical this and arguments', () => {
    same(
      `exports.double = (a) => a * 2;
       exports.object = () => ({ a: 1 });
       exports.curry = (a) => (b) => a + b;
       exports.lexical = function () { const f = () => [this === exports, arguments.length]; return f(); };
       exports.comma = (a) => (a, 7);`,
      (e) => [e.double(2), e.object(), e.curry(1)(2), e.lexical(1, 2), e.comma(1)],
    );
  });

  it('leaves eval users, getters, generators with a rest parameter and for-await users to pinning, and they still work', async () => {
    // Generators that can take the hidden parameter: instrument-generator.test.ts.
    const code = `exports.evaluate = function () { var x = 1; return eval('x + 1'); };
       exports.obj = { get g() { return 1; } };
       exports.gen = function* (...a) { yield 1; };
       exports.agen = async function* () { 'use strict'; yield 1; };
       exports.forAwait = async function (xs) { let n = 0; for await (const x of xs) n += x; return n; };`;
    const e = load(rewrite(code + 'exports.plain = function () { return 1; };'));
    expect(e.evaluate()).toBe(2);
    expect(e.obj.g).toBe(1);
    expect([...e.gen()]).toEqual([1]);
    expect((await e.agen().next()).value).toBe(1);
    expect(await e.forAwait([1, 2])).toBe(3);
    for (const f of [e.evaluate, e.gen, e.agen, e.forAwait]) expect(bodySiteOf(f)).toBeUndefined();
    const own = load(rewrite(`exports.a = function () { var { arguments } = { arguments: 1 }; return arguments; }; exports.b = function () { return 1; };`));
    expect(own.a()).toBe(1);
    expect(bodySiteOf(own.a)).toBeUndefined();
    expect(bodySiteOf(e.plain)).toBeDefined();
  });

  it('keeps every line: an error thrown on a later line reports the same line', () => {
    const code = `exports.f = function () {\n  const x = 1;\n  throw new Error('at line 3');\n};`;
    const line = (e: Record<string, any>) => {
      try {
        e.f();
      } catch (error) {
        return /<anonymous>:(\d+):(\d+)/.exec((error as Error).stack ?? '')?.slice(1);
      }
    };
    expect(line(load(rewrite(code)))).toEqual(line(load(code)));
  });

  it('a hashbang and a module with only functions', () => {
    const code = `#!/usr/bin/env node\nexports.f = function () { return 1; };`;
    const rewritten = rewrite(code);
    expect(rewritten.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(rewritten.split('\n').length).toBe(code.split('\n').length);
  });
});

describe('identity and text', () => {
  it('Function.prototype.toString gives the original text of every kind of function', () => {
    const code = `exports.f = function named(a, b) { return a + b; };
       exports.arrow = (a) => a + 1;
       exports.block = (a) => { return a; };
       class K extends Object { constructor() { super(); } m() { return 1; } static s(x = () => 2) { return x; } ['c' + 'k']() { return 3; } }
       exports.K = K;
       exports.o = { method() { return 1; }, 'quoted key'() { return 2; } };`;
    const e = load(rewrite(code));
    const fns = [e.f, e.arrow, e.block, e.K, e.K.prototype.m, e.K.s, e.K.prototype.ck, e.o.method, e.o['quoted key']];
    const plain = load(code);
    const plainFns = [plain.f, plain.arrow, plain.block, plain.K, plain.K.prototype.m, plain.K.s, plain.K.prototype.ck, plain.o.method, plain.o['quoted key']];
    fns.forEach((fn, i) => {
      expect(originalText(nativeToString.call(fn))).toBe(nativeToString.call(plainFns[i]));
      expect(bodySiteOf(fn), `site of ${nativeToString.call(plainFns[i])}`).toBeDefined();
    });
    // Each function finds its own site, not a nested function's or a sibling method's.
    const sites = new Set(fns.map((fn) => bodySiteOf(fn)));
    expect(sites.size).toBe(fns.length);
    expect(bodySiteOf(e.K)!.name).toBe('K');
    expect(bodySiteOf(e.K.s)!.name).toBe('s');
  });

  it('strips only segments carrying the tag', () => {
    const tag = bodyRegistry().tag;
    const text = `function f() {/*${tag}<3*/x;/*${tag}>*/ return /*${tag}<*/r(/*${tag}>*/1/*${tag}<*/)/*${tag}>*/; /* user */ }`;
    expect(stripInserted(text, tag)).toBe('function f() { return 1; /* user */ }');
    expect(markedSites(text, tag)).toEqual([[3, 14]]);
    expect(stripInserted('function g() { /*ltother<1*/ }', tag)).toBe('function g() { /*ltother<1*/ }');
  });

  it('closures of one source function share one site', () => {
    const e = load(rewrite(`exports.make = function () { return function inner() { return 1; }; };`));
    expect(bodySiteOf(e.make())).toBe(bodySiteOf(e.make()));
  });

  it('a nested function with no way to name its closure is left to pinning (strict, anonymous)', () => {
    const e = load(rewrite(`'use strict'; exports.make = function () { return function () { return 1; }; }; exports.top = () => 1;`));
    expect(bodySiteOf(e.make())).toBeUndefined();
    expect(bodySiteOf(e.make)).toBeDefined();
    expect(bodySiteOf(e.top)).toBeDefined();
    // An instance field's arrow: one closure per instance, none named; a static field's: one.
    const f = load(rewrite(`class A { f = () => 1; static s = () => 2; } exports.a = new A(); exports.b = new A(); exports.A = A;`));
    expect(bodySiteOf(f.a.f)).toBeUndefined();
    expect(f.a.f()).toBe(1);
    expect(bodySiteOf(f.A.s)).toBeDefined();
  });
});

describe('tracing an instrumented function', () => {
  it('a session hooks the body site: same object, call/return/throw events with args, this and constructors', () => {
    const e = load(rewrite(`exports.add = function (a, b) { return a + b; };
      exports.fail = function (m) { throw new Error(m); };
      exports.none = function () { };
      exports.Point = function Point(x) { this.x = x; };`));
    const add = e.add;
    const site = siteFor(propertyTarget(e, 'add'));
    if (typeof site === 'string') throw new Error(site);
    expect(site.wrapper).toBe(add);
    const hook = new RecordingHook();
    let seen: unknown[] = [];
    const enter = hook.enter.bind(hook);
    hook.enter = ((self: unknown, args: unknown[]) => {
      seen = [self, args];
      return enter();
    }) as typeof hook.enter;
    expect(addHook(site, hook)).toBe(true);
    expect(e.add).toBe(add);
    expect(e.add(2, 3)).toBe(5);
    expect(seen).toEqual([e, [2, 3]]);
    expect(hook.endings.map((x) => [x.threw, x.value])).toEqual([[false, 5]]);

    const sites = ['fail', 'none', 'Point'].map((k) => siteFor(propertyTarget(e, k)));
    const hook2 = new RecordingHook();
    for (const s of sites) if (typeof s !== 'string') addHook(s, hook2);
    expect(() => e.fail('boom')).toThrow('boom');
    expect(e.none()).toBeUndefined();
    const p = new e.Point(1);
    expect(hook2.endings.map((x) => [x.threw, x.threw ? String(x.value) : x.value])).toEqual([
      [true, 'Error: boom'],
      [false, undefined],
      [false, p],
    ]);
    removeHook(site, hook);
    expect(e.add).toBe(add);
    expect(site.state.hooks).toBeNull();
    e.add(1, 1);
    expect(hook.endings.length).toBe(1);
  });

  it('hands the hooks every argument, whichever way the body passes them (sloppy own, strict apply, arrows, defaults, repeated names, more than four), and pre-tests any position', () => {
    const sloppy = `exports.plain = function plain(a, b) { return a; };
      exports.none = function () { return arguments.length; };
      exports.five = function five(a, b, c, d, e) { return e; };
      exports.defaults = function defaults(a, b = 2) { return b; };
      exports.twice = function twice(a, a) { return a; };
      exports.method = { m(a) { return a; } }.m;
      exports.asyncFn = async function asyncFn(a) { return a; };
      exports.arrow = (a, b) => b;`;
    const strict = `'use strict';\n${sloppy.replace('exports.twice = function twice(a, a) { return a; };', '')}`;
    for (const code of [sloppy, strict]) {
      const text = rewrite(code);
      // The idle path names no `arguments` in a sloppy-mode plain function with parameters.
      expect(text.includes('.own()')).toBe(!code.startsWith("'use strict'"));
      const e = load(text);
      const calls: Array<[string, unknown[]]> = [];
      for (const name of Object.keys(e)) {
        const site = siteFor(propertyTarget(e, name));
        if (typeof site === 'string') throw new Error(`${name}: ${site}`);
        const hook = new RecordingHook();
        const enter = hook.enter.bind(hook);
        hook.enter = ((_self: unknown, args: unknown[]) => {
          calls.push([name, args]);
          return enter();
        }) as typeof hook.enter;
        expect(addHook(site, hook)).toBe(true);
      }
      e.plain(1, 2, 3);
      e.plain(1);
      e.none(1, 2);
      e.five(1, 2, 3, 4, 5, 6);
      e.defaults(1);
      e.twice?.(1, 2);
      e.method(7, 8);
      void e.asyncFn(9, 10);
      e.arrow(1, 2, 3);
      const expected: Array<[string, unknown[]]> = [
        ['plain', [1, 2, 3]],
        ['plain', [1]],
        ['none', [1, 2]],
        ['five', [1, 2, 3, 4, 5, 6]],
        ['defaults', [1]],
        ...(e.twice === undefined ? [] : ([['twice', [1, 2]]] as Array<[string, unknown[]]>)),
        ['method', [7, 8]],
        ['asyncFn', [9, 10]],
        ['arrow', [1, 2]],
      ];
      expect(calls).toEqual(expected);

      // A positional pre-test past the named values runs on every argument; one within them, on the value.
      calls.length = 0;
      const five = siteFor(propertyTarget(e, 'five'));
      const plain = siteFor(propertyTarget(e, 'plain'));
      if (typeof five === 'string' || typeof plain === 'string') throw new Error('no site');
      Object.assign(five.state, { pre: (v: unknown) => v === 'yes', at: 5 });
      Object.assign(plain.state, { pre: (v: unknown) => v === 'yes', at: 1 });
      expect(e.five(1, 2, 3, 4, 5, 'no')).toBe(5);
      expect(e.five(1, 2, 3, 4, 5, 'yes')).toBe(5);
      expect(e.plain(1, 'no')).toBe(1);
      expect(e.plain(1, 'yes', 3)).toBe(1);
      expect(calls).toEqual([
        ['five', [1, 2, 3, 4, 5, 'yes']],
        ['plain', [1, 'yes', 3]],
      ]);
      expect(five.state.skipped + plain.state.skipped).toBe(2);
    }
  });

  it('hooking one closure of a source function reports that closure only (name binding, arguments.callee, class name)', () => {
    const e = load(rewrite(`function rest(f) { return function () { return f.apply(this, arguments); }; }
      exports.a = rest((x) => 'a' + x); exports.b = rest((x) => 'b' + x);
      function named(k) { return function inner(x) { return k + x; }; }
      exports.c = named('c'); exports.d = named('d');
      function klass(k) { return class K { constructor() { this.k = k; } }; }
      exports.E = klass('e'); exports.F = klass('f');`));
    for (const [hooked, other] of [['a', 'b'], ['c', 'd'], ['E', 'F']] as const) {
      expect(bodySiteOf(e[hooked])).toBe(bodySiteOf(e[other]));
      const site = siteFor(propertyTarget(e, hooked));
      if (typeof site === 'string') throw new Error(site);
      expect(site.wrapper).toBe(e[hooked]);
      const hook = new RecordingHook();
      addHook(site, hook);
      if (hooked === 'E') {
        new e.F();
        new e.E();
      } else {
        e[other](1);
        e[hooked](1);
      }
      expect(hook.endings.length, hooked).toBe(1);
      removeHook(site, hook);
    }
  });

  it('two closures of one source function hooked at once each report their own calls; one unhooked, the other still does', () => {
    const e = load(rewrite(`function named(k) { return function inner(x) { return k + x; }; }
      exports.c = named('c'); exports.d = named('d');`));
    const sites = (['c', 'd'] as const).map((k) => siteFor(propertyTarget(e, k)));
    const hooks = [new RecordingHook(), new RecordingHook()];
    sites.forEach((site, i) => {
      if (typeof site === 'string') throw new Error(site);
      addHook(site, hooks[i]!);
    });
    // Hooked once, the site calls its own compiled copy of `enter` (several closures hooked: it hands over to the shared one).
    expect(bodySiteOf(e.c)!.enter).not.toBe(BodySite.prototype.enterAny);
    expect(e.c(1)).toBe('c1');
    expect(e.d(2)).toBe('d2');
    expect(e.d(3)).toBe('d3');
    expect(hooks.map((h) => h.endings.map((x) => x.value))).toEqual([['c1'], ['d2', 'd3']]);
    const [c] = sites;
    if (typeof c === 'string' || c === undefined) throw new Error(String(c));
    removeHook(c, hooks[0]!);
    expect(e.c(4)).toBe('c4');
    expect(e.d(5)).toBe('d5');
    expect(hooks.map((h) => h.endings.map((x) => x.value))).toEqual([['c1'], ['d2', 'd3', 'd5']]);
  });

  it("reports a call's last completion: a user's finally that returns or throws after a return, a constructor's result", () => {
    const e = load(rewrite(`exports.over = function () { try { return 1; } finally { return 2; } };
      exports.late = function () { try { return 1; } finally { throw new Error('late'); } };
      exports.Prim = function Prim() { this.p = 1; return 5; };
      exports.Obj = function Obj() { return { o: 1 }; };
      function shadowed() { return 1; } for (shadowed in {}) {} exports.shadowed = shadowed;`));
    const hook = new RecordingHook();
    for (const key of ['over', 'late', 'Prim', 'Obj']) {
      const site = siteFor(propertyTarget(e, key));
      if (typeof site === 'string') throw new Error(site);
      addHook(site, hook);
    }
    expect(e.over()).toBe(2);
    expect(() => e.late()).toThrow('late');
    const p = new e.Prim();
    const o = new e.Obj();
    expect(hook.endings.map((x) => [x.threw, x.threw ? String(x.value) : x.value])).toEqual([
      [false, 2],
      [true, 'Error: late'],
      [false, p],
      [false, o],
    ]);
  });

  it('reports where it happens in a body with no finally of its own: `return;` anywhere a statement can be, a throw caught by the body, a constructor; an iterator closed by a return keeps the finally', () => {
    const code = `exports.early = function early(a) { if (a) return; else return\n(1); };
      exports.labeled = function labeled(a) { out: return; };
      exports.cased = function cased(a) { switch (a) { case 1: return; default: return a; } };
      exports.caught = function caught(a) { try { throw new Error('x'); } catch (e) { return a; } };
      exports.arrow = (a) => a * 2;
      exports.Ctor = function Ctor(a) { this.a = a; if (a) return; return 7; };
      exports.fail = function fail(a) { if (a) throw new Error('f' + a); };
      exports.closing = function closing(a) {
        const it = { [Symbol.iterator]() { return { next: () => ({ value: 1, done: false }), return() { throw new Error('closed'); } }; } };
        for (const x of it) return x + a;
      };`;
    const text = rewrite(code);
    // Only the function with a `for...of` gets a finally of ours (besides the iterator's own methods, which have none).
    expect(text.split('finally{').length - 1).toBe(1);
    same(code, (x) => [x.early(1), x.early(0), x.labeled(), x.cased(1), x.cased(2), x.caught(3), x.arrow(4), new x.Ctor(1), new x.Ctor(0), outcome(() => x.fail(2)), outcome(() => x.closing(1))]);
    const e = load(text);
    const hook = new RecordingHook();
    for (const key of ['early', 'labeled', 'cased', 'caught', 'arrow', 'Ctor', 'fail', 'closing']) {
      const site = siteFor(propertyTarget(e, key));
      if (typeof site === 'string') throw new Error(site);
      addHook(site, hook);
    }
    expect(e.early(1)).toBeUndefined();
    expect(e.early(0)).toBeUndefined();
    expect(e.labeled()).toBeUndefined();
    expect(e.cased(1)).toBeUndefined();
    expect(e.cased(2)).toBe(2);
    expect(e.caught(3)).toBe(3);
    expect(e.arrow(4)).toBe(8);
    const c1 = new e.Ctor(1);
    const c0 = new e.Ctor(0);
    expect(() => e.fail(2)).toThrow('f2');
    expect(e.fail(0)).toBeUndefined();
    expect(() => e.closing(1)).toThrow('closed');
    expect(hook.endings.map((x) => [x.threw, x.threw ? String(x.value) : x.value])).toEqual([
      [false, undefined],
      [false, undefined],
      [false, undefined],
      [false, undefined],
      [false, 2],
      [false, 3],
      [false, 8],
      [false, c1],
      [false, c0],
      [true, 'Error: f2'],
      [false, undefined],
      // The iterator's `return()` threw after the return's value: one ending, the throw.
      [true, 'Error: closed'],
    ]);
  });

  it('nested calls see the enclosing call (call-tree parents run through the same dispatch)', () => {
    const e = load(rewrite(`exports.outer = function () { return exports.inner() + 1; };
      exports.inner = function () { return 1; };`));
    const order: string[] = [];
    for (const key of ['outer', 'inner']) {
      const site = siteFor(propertyTarget(e, key));
      if (typeof site === 'string') throw new Error(site);
      const hook = new RecordingHook();
      hook.exit = () => void order.push(key);
      addHook(site, hook);
    }
    expect(e.outer()).toBe(2);
    expect(order).toEqual(['inner', 'outer']);
  });

  it('a read-only place holding an instrumented function is traceable: nothing has to be written', () => {
    const e = Object.freeze(load(rewrite(`exports.f = function (x) { return x + 1; };`)));
    const site = siteFor(propertyTarget(e, 'f'));
    if (typeof site === 'string') throw new Error(site);
    const hook = new RecordingHook();
    expect(addHook(site, hook)).toBe(true);
    expect(e.f(1)).toBe(2);
    expect(hook.endings.map((x) => x.value)).toEqual([2]);
    removeHook(site, hook);
    // A plain function there still can't be patched.
    expect(siteFor(propertyTarget(Object.freeze({ g: () => 1 }), 'g'))).toMatch(/read-only/);
  });

  it('pinning leaves an instrumented export as it is', () => {
    const module = { exports: load(rewrite(`exports.f = function () { return 1; }; exports.f.extra = 1;`)), filename: '/app/case.js' };
    const f = module.exports.f;
    pinExports(module);
    expect(module.exports.f).toBe(f);
    expect(siteOfWrapper(f)?.original).toBe(f);
  });
});
