// Body instrumentation of async functions (src/agent/source/instrument-plan.ts, the awaits;
// src/agent/patcher/body-site.ts, `a`/`w`/`f`): the rewritten module behaves as written, to
// the order of its microtasks, and a hooked async function is reported as the wrapper path
// reports one: its call ends (pending) where the caller gets its promise, and settles with
// what the promise settles with.
import { describe, expect, it } from 'vitest';
import { load, rewrite as rewriteAt } from './module-case.js';
import { bodySiteOf, originalText } from '../../../../src/agent/patcher/body-registry.js';
import { parentOf, releaseAsyncContext, retainAsyncContext } from '../../../../src/agent/patcher/context.js';
import type { Ending } from '../../../../src/agent/patcher/dispatch.js';
import { patch, RecordingHook } from '../patcher/recording-hook.js';
import { addHook, removeHook, siteFor } from '../../../../src/agent/patcher/site.js';
import { propertyTarget } from '../../../../src/agent/engines/exports/target.js';

const nativeToString = Function.prototype.toString;
const rewrite = (code: string): string => rewriteAt(code, '/app/async-case.js');

async function settle(p: unknown): Promise<unknown> {
  try {
    return { value: await p };
  } catch (error) {
    return { rejected: String(error) };
  }
}

const CASES = `const log = []; exports.log = log;
  exports.a = async function (x) { log.push('a0'); const y = await x; log.push('a1'); return y + 1; };
  exports.b = async (x) => { log.push('b0'); await null; log.push('b1'); await null; log.push('b2'); return x; };
  exports.arrow = async x => await x * 2;
  exports.nested = async function () { return await await Promise.resolve(3); };
  exports.asi = async function (f) { let r = 1
    f()
    await r
    ;[r] = [r + 1]
    return r }
  exports.thrower = async function () { throw new Error('sync'); };
  exports.rejecter = async function () { await null; throw new Error('late'); };
  exports.caught = async function () { try { await Promise.reject(new Error('x')); } catch (e) { return 'caught ' + e.message; } };
  exports.adopt = async function () { return Promise.resolve(7); };
  exports.adoptRejected = async function () { return Promise.reject(new Error('adopted')); };
  exports.args = async function () { await null; return arguments.length; };
  exports.method = { async m(x) { await null; return this === exports.method && x; } };
  class K { constructor() { this.v = 5; } async m() { return await this.v; } }
  exports.K = K;
  exports.none = async function () {};
  exports.ternary = async function (p) { return (await p) ? await 'yes' : await 'no'; };`;

async function runAll(e: Record<string, any>): Promise<unknown> {
  const started = [
    e.a(1),
    e.b(2),
    e.a(Promise.resolve(3)),
    e.arrow(Promise.resolve(4)),
    e.nested(),
    e.asi(() => e.log.push('f')),
    e.thrower(),
    e.rejecter(),
    e.caught(),
    e.adopt(),
    e.adoptRejected(),
    e.args(1, 2, 3),
    e.method.m(9),
    new e.K().m(),
    e.none(),
    e.ternary(Promise.resolve(0)),
  ];
  e.log.push('sync end');
  const results = [];
  for (const p of started) results.push(await settle(p));
  return { results, log: [...e.log] };
}

describe('async functions keep their semantics', () => {
  it('results, rejections and the order of every microtask are as written', async () => {
    const plain = await runAll(load(CASES));
    const e = load(rewrite(CASES));
    expect(await runAll(e)).toEqual(plain);
    for (const key of ['a', 'b', 'arrow', 'nested', 'asi', 'thrower', 'caught', 'none']) expect(bodySiteOf(e[key]), key).toBeDefined();
    expect(bodySiteOf(e.method.m)).toBeDefined();
    expect(bodySiteOf(e.K.prototype.m)).toBeDefined();
  });

  it('the same object, text, name, length and kind as untraced', () => {
    const plain = load(CASES + 'class S { static async s(x) { await x; } async [`c` + 1]() {} }; exports.S = S;');
    const e = load(rewrite(CASES + 'class S { static async s(x) { await x; } async [`c` + 1]() {} }; exports.S = S;'));
    const pick = (x: Record<string, any>) => [x.a, x.b, x.arrow, x.asi, x.ternary, x.method.m, x.K.prototype.m, x.S.s, x.S.prototype.c1];
    const fns = pick(e);
    pick(plain).forEach((original, i) => {
      const fn = fns[i];
      expect(bodySiteOf(fn), nativeToString.call(original)).toBeDefined();
      expect(originalText(nativeToString.call(fn))).toBe(nativeToString.call(original));
      expect([fn.name, fn.length, Object.prototype.toString.call(fn)]).toEqual([original.name, original.length, Object.prototype.toString.call(original)]);
    });
  });

  it('a rejection is reported where it would be: the stack of an error thrown after an await keeps its frames', async () => {
    const code = `exports.deep = async function deep() { await null; return exports.inner(); };
      exports.inner = function inner() { return new Error('here').stack; };`;
    // The test runner's own async frames below the test vary with how it awaits the test.
    const frames = (stack: string) =>
      stack
        .split('\n')
        .slice(1)
        .filter((line) => !line.includes('node_modules'))
        .map((line) => line.trim().replace(/:\d+:\d+\)?$/, ''));
    const plain = frames(await load(code).deep());
    const e = load(rewrite(code));
    const { unpatch } = patch(e, 'deep');
    const traced = frames(await e.deep());
    unpatch();
    expect(traced).toEqual(plain);
  });
});

/** Endings and settlements as comparable data. */
function reported(hook: RecordingHook): unknown {
  const show = (v: unknown) => (v instanceof Error ? `Error: ${v.message}` : v);
  return {
    endings: hook.endings.map((x: Ending) => ({ threw: x.threw, pending: x.pending, value: x.pending ? undefined : show(x.value) })),
    settled: hook.settled.map((x) => ({ rejected: x.rejected, value: show(x.value) })),
  };
}

describe('a traced async function is reported as the wrapper path reports it', () => {
  const code = `exports.later = async function (x) { await null; return x + 1; };
    exports.rejects = async function () { await null; throw new Error('late'); };
    exports.early = async function () { throw new Error('early'); };
    exports.plain = async function (x) { return x; };
    exports.adopts = async function () { return new Promise((r) => setTimeout(r, 5, 'timer')); };
    exports.adoptsRejection = async function () { return Promise.reject(new Error('adopted')); };`;
  const calls: [string, unknown[]][] = [['later', [1]], ['rejects', []], ['early', []], ['plain', [2]], ['adopts', []], ['adoptsRejection', []]];

  async function run(e: Record<string, any>): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const [key, args] of calls) {
      const { hook, unpatch } = patch(e, key);
      const result = await settle(e[key](...args));
      unpatch();
      out.push({ key, result, ...(reported(hook) as object) });
    }
    return out;
  }

  it('the same endings (pending at the sync return) and the same settlements as a wrapper', async () => {
    const wrapped = await run(load(code));
    const instrumented = load(rewrite(code));
    for (const [key] of calls) expect(bodySiteOf(instrumented[key]), key).toBeDefined();
    expect(await run(instrumented)).toEqual(wrapped);
    expect((wrapped[0] as { endings: unknown[] }).endings).toEqual([{ threw: false, pending: true, value: undefined }]);
  });

  it('the call ends where the caller gets its promise: before the code after the call, settles after the body', async () => {
    const e = load(rewrite(`exports.f = async function () { exports.log.push('before await'); await null; exports.log.push('after await'); return 1; }; exports.log = [];`));
    const { hook, unpatch } = patch(e, 'f');
    hook.exit = () => void e.log.push('exit');
    hook.settle = () => void e.log.push('settle');
    const p = e.f();
    e.log.push('caller');
    await p;
    unpatch();
    expect(e.log).toEqual(['before await', 'exit', 'caller', 'after await', 'settle']);
  });

  it('call-tree parents: calls after an await are inside the async call, the caller after it is not', async () => {
    retainAsyncContext();
    try {
      const e = load(rewrite(`exports.outer = async function () { exports.inner(); await null; exports.inner(); await null; return exports.inner(); };
        exports.inner = function () { return 1; }; exports.after = function () { return 2; };`));
      const sessionKey = {};
      const parents: [string, number | undefined][] = [];
      const ids = new Map<object, number>();
      let next = 0;
      const hooks = ['outer', 'inner', 'after'].map((key) => {
        const site = siteFor(propertyTarget(e, key));
        if (typeof site === 'string') throw new Error(site);
        const hook = new RecordingHook();
        (hook as { sessionKey: object }).sessionKey = sessionKey;
        hook.enter = () => {
          parents.push([key, parentOf(sessionKey)?.id]);
          const token = { id: ++next };
          ids.set(token, next);
          return token;
        };
        addHook(site, hook);
        return [site, hook] as const;
      });
      const p = e.outer();
      e.after();
      await p;
      e.after();
      for (const [site, hook] of hooks) removeHook(site, hook);
      // outer is call 1: every inner is inside it; neither `after` is.
      expect(parents).toEqual([
        ['outer', undefined],
        ['inner', 1],
        ['after', undefined],
        ['inner', 1],
        ['inner', 1],
        ['after', undefined],
      ]);
    } finally {
      releaseAsyncContext();
    }
  });
});
