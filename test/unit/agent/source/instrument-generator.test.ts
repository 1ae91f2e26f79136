// Body instrumentation of generators and async generators (src/agent/source/instrument-plan.ts
// planGenerator, src/agent/patcher/body-site.ts `g`): only a hidden last parameter is added,
// so each shape is run as written and as rewritten and everything the program can see is
// compared (yields, return(), throw(), yield*, arguments, this, length, name, text, a
// generator never iterated); the shapes where the hidden parameter could be seen are left to
// pinning, and still work. A hooked generator is reported as the wrapper path reports it.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { load, rewrite } from './module-case.js';
import { bodySiteOf, originalText } from '../../../../src/agent/patcher/body-registry.js';
import { parentOf } from '../../../../src/agent/patcher/context.js';
import { capture } from '../../../../src/agent/capture/capturer.js';
import { parametersOf } from '../../../../src/agent/source/params.js';
import { addHook, removeHook, siteFor } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';
import { patch, RecordingHook } from '../patcher/recording-hook.js';

const nativeToString = Function.prototype.toString;

function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (error) {
    return { threw: String(error) };
  }
}

async function settle(p: unknown): Promise<unknown> {
  try {
    return { value: await p };
  } catch (error) {
    return { rejected: String(error) };
  }
}

/** Every step of driving a generator: next with values, then return() or throw() part way. */
function drive(it: Generator, steps: ['next' | 'return' | 'throw', unknown][]): unknown[] {
  return steps.map(([method, value]) => outcome(() => (it[method] as (v: unknown) => unknown)(value)));
}

// Strict (the module's 'use strict', or a class body): any parameter list, `arguments` used.
const STRICT = `'use strict';
  const log = []; exports.log = log;
  function* plain(a, b) { log.push('plain ran'); const got = yield a; yield [got, b, arguments.length, typeof this]; return 'done'; }
  exports.plain = plain;
  exports.expr = function* named(x, y = x * 2, { z } = {}) { yield [x, y, z, arguments.length]; };
  exports.anon = function* (x,
    y, /* a comment */ ) { yield* [x, y]; yield* exports.expr(x); return arguments[1]; };
  exports.never = function* never() { log.push('never ran'); yield 1; };
  exports.cleanup = function* cleanup() { try { yield 1; yield 2; } finally { log.push('finally'); } };
  exports.catcher = function* catcher() { while (true) { try { yield 'waiting'; } catch (e) { yield 'caught ' + e; } } };
  exports.thrower = function* thrower() { throw new Error('at first next'); };
  exports.o = { *m(k) { yield this === exports.o && k; } };
  class K { constructor() { this.v = 3; } *values() { yield this.v; yield arguments.length; } static *s(q = 1) { yield q; } *[Symbol.iterator]() { yield 'iter'; } }
  exports.K = K;
  exports.agen = async function* agen(a) { log.push('agen ran'); await null; const got = yield a; yield [got, arguments.length]; };
  exports.ao = { async *am(n) { for (let i = 0; i < n; i++) yield await i; }, async *relay(xs) { for await (const x of xs) yield x * 2; } };`;

// Sloppy mode: a generator whose body never names `arguments`, with simple and non-simple lists.
const SLOPPY = `const log = []; exports.log = log;
  function* sloppy(a, b) { a = 5; yield [a, b, this === globalThis]; }
  exports.sloppy = sloppy;
  exports.sloppyDefaults = function* sd(a, b = 2) { a = 9; yield [a, b, arguments[0], arguments.length]; };
  exports.sloppyThis = { *m() { yield this === exports.sloppyThis; } };`;

function runStrict(e: Record<string, any>): unknown {
  const made = [e.plain(1, 2), e.expr(1), e.anon(3, 4, 5), e.never(), e.cleanup(), e.catcher(), e.thrower(), e.o.m('k'), new e.K().values(7), e.K.s(), new e.K()[Symbol.iterator]()];
  return {
    plain: drive(made[0], [['next', 'x'], ['next', 'sent'], ['next', undefined], ['next', undefined]]),
    expr: [...made[1]],
    anon: [...made[2]],
    cleanup: drive(made[4], [['next', undefined], ['return', 'early'], ['next', undefined]]),
    catcher: drive(made[5], [['next', undefined], ['throw', 'boom'], ['next', undefined], ['return', 'r']]),
    thrower: drive(made[6], [['next', undefined], ['next', undefined]]),
    unstarted: drive(e.cleanup(), [['return', 'before start'], ['next', undefined]]),
    unstartedThrow: drive(e.cleanup(), [['throw', 'before start'], ['next', undefined]]),
    method: [...made[7]],
    values: [...made[8]],
    s: [...made[9]],
    iter: [...made[10]],
    protos: made.map((g: object, i: number) => [Object.prototype.toString.call(g), i < 7 ? Object.getPrototypeOf(g) === [e.plain, e.expr, e.anon, e.never, e.cleanup, e.catcher, e.thrower][i].prototype : true]),
    instance: e.plain() instanceof e.plain,
    construct: outcome(() => new e.plain()),
    log: [...e.log],
  };
}

describe('generators keep their semantics', () => {
  it('strict generators: yields, values sent, return(), throw(), yield*, arguments, this, a generator never iterated', () => {
    const plain = runStrict(load(STRICT));
    const e = load(rewrite(STRICT));
    expect(runStrict(e)).toEqual(plain);
    expect((plain as { log: string[] }).log).not.toContain('never ran');
    for (const f of [e.plain, e.expr, e.anon, e.never, e.cleanup, e.catcher, e.thrower, e.o.m, e.K.prototype.values, e.K.s, e.K.prototype[Symbol.iterator], e.agen, e.ao.am, e.ao.relay]) {
      expect(bodySiteOf(f), nativeToString.call(f)).toBeDefined();
    }
  });

  it('async generators: yields, values sent, return(), throw(), for await', async () => {
    const run = async (e: Record<string, any>) => {
      const g = e.agen(1, 2);
      e.log.push('made');
      const steps = [await settle(g.next('x')), await settle(g.next('sent')), await settle(g.next()), await settle(g.return('late'))];
      const h = e.agen(5);
      const thrown = [await settle(h.next()), await settle(h.throw(new Error('into'))), await settle(h.next())];
      const out = [];
      for await (const v of e.ao.am(3)) out.push(v);
      for await (const v of e.ao.relay(e.ao.am(2))) out.push(v);
      const unstarted = [await settle(e.agen(1).return('early'))];
      return { steps, thrown, out, unstarted, tag: Object.prototype.toString.call(g), log: [...e.log] };
    };
    const plain = await run(load(STRICT));
    expect(await run(load(rewrite(STRICT)))).toEqual(plain);
    expect((plain as { log: string[] }).log.slice(0, 2)).toEqual(['made', 'agen ran']);
  });

  it('sloppy-mode generators whose body never names arguments; a sloppy non-simple list keeps its unmapped arguments', () => {
    const run = (e: Record<string, any>) => [[...e.sloppy(1, 2)], [...e.sloppyDefaults(1)], [...e.sloppy.call(undefined, 1)], [...e.sloppyThis.m()]];
    const plain = run(load(SLOPPY));
    const e = load(rewrite(SLOPPY));
    expect(run(e)).toEqual(plain);
    for (const f of [e.sloppy, e.sloppyDefaults, e.sloppyThis.m]) expect(bodySiteOf(f), nativeToString.call(f)).toBeDefined();
  });

  it('the same object, text, name, length, kind and parameters as untraced', () => {
    const plain = load(STRICT);
    const e = load(rewrite(STRICT));
    const pick = (x: Record<string, any>) => [x.plain, x.expr, x.anon, x.never, x.o.m, x.K.prototype.values, x.K.s, x.K.prototype[Symbol.iterator], x.agen, x.ao.am];
    const fns = pick(e);
    pick(plain).forEach((original, i) => {
      const fn = fns[i];
      expect(originalText(nativeToString.call(fn))).toBe(nativeToString.call(original));
      expect(nativeToString.call(fn)).not.toBe(nativeToString.call(original));
      expect([fn.name, fn.length, inspect(fn), Object.prototype.toString.call(fn), Object.getOwnPropertyNames(fn)]).toEqual([
        original.name,
        original.length,
        inspect(original),
        Object.prototype.toString.call(original),
        Object.getOwnPropertyNames(original),
      ]);
      // Redaction by parameter name reads the text as written (no hidden parameter).
      expect(parametersOf(fn)).toEqual(parametersOf(original));
    });
    expect(e.expr.length).toBe(1);
    expect(e.anon.length).toBe(2);
  });

  it('leaves to pinning the shapes where the hidden parameter could be seen, and they still work', () => {
    const code = `exports.rest = function* rest(a, ...more) { yield more; };
      exports.own = function* own() { 'use strict'; yield typeof this; };
      exports.mapped = function* mapped(a) { arguments[0] = 2; yield a; };
      exports.arrowArgs = function* arrowArgs(a) { const f = () => arguments[0]; a = 3; yield f(); };
      exports.dup = function* dup(a, a) { yield a; };
      exports.make = function () { 'use strict'; return function* () { yield 1; }; };
      exports.commented = function* commented() /* here */ { yield 1; };
      exports.evaluate = function* evaluate() { yield eval('1 + 1'); };`;
    const run = (e: Record<string, any>) => [[...e.rest(1, 2, 3)], [...e.own()], [...e.mapped(1)], [...e.arrowArgs(1)], [...e.dup(1, 2)], [...e.make()()], [...e.commented()], [...e.evaluate()]];
    const plain = run(load(code));
    const e = load(rewrite(code + '\nexports.ok = function* ok() { yield 1; };'));
    expect(run(e)).toEqual(plain);
    expect(plain).toEqual([[[2, 3]], ['object'], [2], [3], [2], [1], [1], [2]]);
    for (const key of ['rest', 'own', 'mapped', 'arrowArgs', 'dup', 'commented', 'evaluate']) expect(bodySiteOf(e[key]), key).toBeUndefined();
    expect(bodySiteOf(e.make())).toBeUndefined();
    expect(bodySiteOf(e.ok)).toBeDefined();
  });

  it('more shapes: quoted, numeric and computed keys, destructured defaults, a parameter named length, nested functions with their own arguments', () => {
    const code = `exports.o = { *'quoted key'(a) { yield a; }, *7(b) { yield b; }, async *[\`k\` + 1](c) { yield c; } };
      class S { static async *[Symbol.asyncIterator]() { yield 's'; } }
      exports.S = S;
      exports.d = function* d({ a } = { a: 1 }, [b] = [2]) { yield [a, b, arguments.length]; };
      exports.len = function* len(length) { yield length; };
      exports.inner = function* inner(a) { function h() { return arguments[0]; } a = 4; yield [h(9), a]; };
      exports.member = function* member(a) { yield a.arguments; };`;
    const run = async (e: Record<string, any>) => {
      const out: unknown[] = [[...e.o['quoted key'](1)], [...e.o[7](2)], [...e.d()], [...e.d({ a: 3 }, [4], 5)], [...e.len(6)], [...e.inner(1)], [...e.member({ arguments: 'x' })]];
      for await (const v of e.o.k1(3)) out.push(v);
      for await (const v of e.S) out.push(v);
      return out;
    };
    return (async () => {
      const plain = await run(load(code));
      const e = load(rewrite(code));
      expect(await run(e)).toEqual(plain);
      for (const f of [e.o['quoted key'], e.o[7], e.o.k1, e.S[Symbol.asyncIterator], e.d, e.len, e.inner]) {
        expect(bodySiteOf(f), nativeToString.call(f)).toBeDefined();
        expect(originalText(nativeToString.call(f))).not.toContain('length"');
      }
      // Sloppy, simple parameters, and `arguments` named (here as a property): left alone, to be sure.
      expect(bodySiteOf(e.member)).toBeUndefined();
    })();
  });

  it('closures of one generator share its site, and hooking one reports that one only (its own name names it)', () => {
    const e = load(rewrite(`exports.make = function (k) { return function* made(x) { yield k + x; }; }; exports.a = exports.make('a'); exports.b = exports.make('b');`));
    expect(bodySiteOf(e.a)).toBe(bodySiteOf(e.b));
    const { hook, unpatch } = patch(e, 'a');
    expect([...e.b(1), ...e.a(2)]).toEqual(['b1', 'a2']);
    unpatch();
    expect(hook.entered).toBe(1);
    expect(hook.endings.length).toBe(1);
  });

  it('an unnamed generator nested in a sloppy function is named by nothing it could use (arguments.callee throws there): left to pinning', () => {
    const e = load(rewrite(`exports.make = function () { return function* () { yield 1; }; };`));
    expect(bodySiteOf(e.make())).toBeUndefined();
    expect([...e.make()()]).toEqual([1]);
  });
});

const TRACED = `'use strict';
  exports.gen = function* gen(a, b) { yield a + b; };
  exports.agen = async function* agen(a) { yield a; };
  exports.Store = class Store { *keys(n) { yield n; } };
  exports.custom = function* custom() { yield 1; };
  exports.custom.prototype = Object.assign(Object.create(Object.getPrototypeOf(exports.gen.prototype)), { mark: 1 });
  exports.bare = function* bare() { yield 1; };
  exports.bare.prototype = null;
  exports.never = function* never(x) { exports.ran = true; yield x; };`;

/** What the hooks were told of one call, as the session would record it (the capture of the value). */
function told(hook: RecordingHook, seen: unknown[][]): unknown {
  return {
    entered: hook.entered,
    seen,
    endings: hook.endings.map((x) => ({ threw: x.threw, pending: x.pending, value: capture(x.value).value, nonNegative: x.end >= x.start })),
    settled: hook.settled.length,
  };
}

describe('a traced generator is reported as the wrapper path reports it', () => {
  const calls: [string, (e: Record<string, any>) => unknown][] = [
    ['gen', (e) => [...e.gen(1, 2)]],
    ['agen', (e) => e.agen(4)],
    ['custom', (e) => [...e.custom()]],
    ['bare', (e) => [...e.bare()]],
    ['never', (e) => e.never(5)],
  ];

  function run(e: Record<string, any>): unknown[] {
    const out: unknown[] = [];
    for (const [key, call] of calls) {
      const { hook, unpatch } = patch(e, key);
      const seen: unknown[][] = [];
      const enter = hook.enter.bind(hook);
      hook.enter = ((self: unknown, args: unknown[], newTarget: unknown) => {
        seen.push([self === e ? 'exports' : self, [...args], newTarget]);
        return enter();
      }) as typeof hook.enter;
      call(e);
      unpatch();
      out.push({ key, ...(told(hook, seen) as object) });
    }
    const { hook, unpatch } = patch(e.Store.prototype, 'keys');
    const store = new e.Store();
    [...store.keys(1)];
    unpatch();
    out.push({ key: 'Store#keys', ...(told(hook, []) as object) });
    return out;
  }

  it('one call and one return whose captured value is the generator object, as a wrapper reports them; the body is untouched', () => {
    const wrapped = load(TRACED);
    const expected = run(wrapped);
    const instrumented = load(rewrite(TRACED));
    const before = [instrumented.gen, instrumented.agen, instrumented.Store.prototype.keys];
    expect(run(instrumented)).toEqual(expected);
    [instrumented.gen, instrumented.agen, instrumented.Store.prototype.keys].forEach((fn, i) => expect(fn).toBe(before[i]));
    for (const fn of before) expect(bodySiteOf(fn)).toBeDefined();
    expect(expected[0]).toMatchObject({ entered: 1, endings: [{ threw: false, pending: false, value: { $: 'object', class: 'Object', props: {} } }] });
    // A generator never iterated: reported at its call, its body never ran.
    expect(expected[4]).toMatchObject({ entered: 1, seen: [['exports', [5], undefined]] });
    expect(instrumented.ran).toBeUndefined();
  });

  it("the value the hooks get is made as the generator object is: the closure's prototype or the intrinsic one, nothing of its own", () => {
    const e = load(rewrite(TRACED));
    for (const key of ['gen', 'agen', 'custom', 'bare']) {
      const { hook, unpatch } = patch(e, key);
      const real = e[key](1, 2);
      unpatch();
      const standIn = hook.endings[0]!.value as object;
      expect(Object.getPrototypeOf(standIn), key).toBe(Object.getPrototypeOf(real));
      expect(Reflect.ownKeys(standIn)).toEqual(Reflect.ownKeys(real));
      expect(capture(standIn)).toEqual(capture(real));
      expect(Object.prototype.toString.call(standIn)).toBe(Object.prototype.toString.call(real));
    }
  });

  it('calls made by the body have the parent of whoever runs it (next()), as with a wrapper: the generator call has ended', () => {
    const code = `'use strict';
      exports.gen = function* gen() { exports.inner(); yield 1; exports.inner(); };
      exports.inner = function inner() { return 1; };
      exports.consume = function consume() { return [...exports.gen()]; };`;
    const parents = (e: Record<string, any>) => {
      const sessionKey = {};
      const seen: [string, string | undefined][] = [];
      const names = new Map<number, string>();
      let next = 0;
      const hooks = ['gen', 'inner', 'consume'].map((key) => {
        const site = siteFor(propertyTarget(e, key));
        if (typeof site === 'string') throw new Error(site);
        const hook = new RecordingHook();
        (hook as { sessionKey: object }).sessionKey = sessionKey;
        hook.enter = () => {
          const parent = parentOf(sessionKey);
          seen.push([key, parent === undefined ? undefined : names.get(parent.id)]);
          const token = { id: ++next };
          names.set(next, key);
          return token;
        };
        addHook(site, hook);
        return [site, hook] as const;
      });
      e.consume();
      const it = e.gen();
      it.next();
      it.next();
      for (const [site, hook] of hooks) removeHook(site, hook);
      return seen;
    };
    const wrapped = parents(load(code));
    expect(wrapped).toEqual([
      ['consume', undefined],
      ['gen', 'consume'],
      ['inner', 'consume'],
      ['inner', 'consume'],
      ['gen', undefined],
      ['inner', undefined],
      ['inner', undefined],
    ]);
    const e = load(rewrite(code));
    expect(bodySiteOf(e.gen)).toBeDefined();
    expect(parents(e)).toEqual(wrapped);
  });
});
