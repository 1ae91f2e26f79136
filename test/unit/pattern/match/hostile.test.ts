import { afterEach, describe, expect, it } from 'vitest';
import type { ArgPattern, PatternAst } from '../../../../src/pattern/ast.js';
import { compilePattern, parsePattern, printPattern, type CompiledMatcher, type Outcome } from '../../../../src/pattern/index.js';

/** Runs pre (and post, when there is one) and reports the verdict and the guard errors it caused. */
function run(pattern: string, args: unknown[], self?: unknown, outcome?: Partial<Outcome>): { matched: boolean; guardErrors: number } {
  const matcher = compilePattern(pattern);
  let matched = false;
  const bindings = matcher.pre(self, args);
  if (bindings !== undefined) {
    matched = matcher.post === undefined || matcher.post(bindings, { ret: undefined, err: undefined, threw: false, ms: 0, ...outcome });
  }
  return { matched, guardErrors: matcher.guardErrors };
}

/** A Proxy whose handler counts every trap the engine so much as looks up. */
function countingProxy<T extends object>(target: T): { proxy: T; traps: () => number; revoke: () => void } {
  let traps = 0;
  const handler = new Proxy(
    {},
    {
      get() {
        traps++;
        return undefined;
      },
    },
  );
  const { proxy, revoke } = Proxy.revocable(target, handler);
  return { proxy, traps: () => traps, revoke };
}

describe('getters are never called', () => {
  let calls = 0;
  const withGetter = (): object => ({
    get id() {
      calls++;
      return 5;
    },
  });
  afterEach(() => {
    calls = 0;
  });

  it('an own getter in an object pattern is a guard error, not a call', () => {
    expect(run('m:f({id: X})', [withGetter()])).toEqual({ matched: false, guardErrors: 1 });
    expect(run('m:f({id: _})', [withGetter()])).toEqual({ matched: false, guardErrors: 1 });
    expect(calls).toBe(0);
  });

  it('a getter on the prototype, on an array element, in a guard, on this and on ret', () => {
    class WithAccessor {
      get id(): number {
        calls++;
        return 5;
      }
    }
    expect(run('m:f({id: 5})', [new WithAccessor()]).guardErrors).toBe(1);
    const array = [1, 2];
    Object.defineProperty(array, 1, {
      get() {
        calls++;
        return 2;
      },
    });
    expect(run('m:f([1, 2])', [array]).guardErrors).toBe(1);
    expect(run('m:f(a) when a.id > 1', [withGetter()]).guardErrors).toBe(1);
    expect(run('m:f(a) when 2 in a', [array]).guardErrors).toBe(1);
    expect(run('m:f when this.id == 5', [], withGetter()).guardErrors).toBe(1);
    expect(run('m:f when ret.id == 5', [], undefined, { ret: withGetter() }).guardErrors).toBe(1);
    expect(calls).toBe(0);
  });

  it('an accessor with only a setter is a guard error too, and the setter is not called', () => {
    const setterOnly = {
      set id(_value: unknown) {
        calls++;
      },
    };
    expect(run('m:f({id: nil})', [setterOnly])).toEqual({ matched: false, guardErrors: 1 });
    expect(calls).toBe(0);
  });

  it('`in` reports a getter as present without calling it', () => {
    expect(run('m:f(a) when "id" in a', [withGetter()])).toEqual({ matched: true, guardErrors: 0 });
    expect(calls).toBe(0);
  });

  it('toString, valueOf and Symbol.toPrimitive are never reached', () => {
    let conversions = 0;
    const sneaky = {
      toString() {
        conversions++;
        return 'x';
      },
      valueOf() {
        conversions++;
        return 10;
      },
      [Symbol.toPrimitive]() {
        conversions++;
        return 10;
      },
    };
    for (const guard of ['a > 3', 'a + 1 == 11', 'a == "x"', 'a ~ /x/', 'b[a] == 1', 'a in b', '-a == -10', 'a < "y"', 'a * 2 == 20']) {
      expect(run(`m:f(a, b) when ${guard}`, [sneaky, { x: 1 }]), guard).toEqual({ matched: false, guardErrors: 0 });
    }
    expect(run('m:f(/x/)', [sneaky]).matched).toBe(false);
    expect(conversions).toBe(0);
  });

  it("an error's stack is never read (formatting it would call Error.prepareStackTrace)", () => {
    let prepared = 0;
    const original = Error.prepareStackTrace;
    Error.prepareStackTrace = () => {
      prepared++;
      return 'stack';
    };
    try {
      expect(run('m:f(e) when e.stack ~ /x/', [new Error('boom')]).guardErrors).toBe(1);
      expect(run('m:f({message: "boom"})', [new Error('boom')]).matched).toBe(true);
    } finally {
      Error.prepareStackTrace = original;
    }
    expect(prepared).toBe(0);
  });
});

describe('Proxies are never trapped', () => {
  it('reading through a Proxy is a guard error and runs no trap', () => {
    const { proxy, traps } = countingProxy({ id: 5, length: 1, 0: 1 });
    const patterns = ['m:f({id: 5})', 'm:f(:array)', 'm:f(:error)', 'm:f(a) when a.id == 5', 'm:f(a) when "id" in a', 'm:f(a) when 1 in a'];
    for (const pattern of patterns) expect(run(pattern, [proxy]), pattern).toEqual({ matched: false, guardErrors: 1 });
    expect(traps()).toBe(0);
  });

  it('a Proxy on the prototype chain is found before any trap runs', () => {
    const { proxy, traps } = countingProxy({ id: 5 });
    const child = Object.create(proxy) as object;
    expect(run('m:f({id: 5})', [child]).guardErrors).toBe(1);
    expect(run('m:f(:error)', [child]).guardErrors).toBe(1);
    expect(traps()).toBe(0);
  });

  it('a Proxy can still be compared, typed with typeof, and bound', () => {
    const { proxy, traps } = countingProxy({ id: 5 });
    expect(run('m:f(X, X) when X == X', [proxy, proxy]).matched).toBe(true);
    expect(run('m:f(:object)', [proxy]).matched).toBe(true);
    expect(run('m:f(:promise)', [proxy]).matched).toBe(false);
    expect(run('m:f({})', [proxy]).matched).toBe(true);
    expect(traps()).toBe(0);
  });

  it('a revoked Proxy never throws out of the matcher', () => {
    const { proxy, revoke, traps } = countingProxy([1]);
    revoke();
    for (const pattern of ['m:f(:array)', 'm:f([1])', 'm:f({length: 1})', 'm:f(:error)', 'm:f(a) when a[0] == 1', 'm:f(a) when 1 in a']) {
      expect(run(pattern, [proxy]), pattern).toEqual({ matched: false, guardErrors: 1 });
    }
    expect(traps()).toBe(0);
  });
});

describe('unusual objects', () => {
  it('null-prototype objects', () => {
    const bare = Object.assign(Object.create(null) as object, { id: 5 });
    expect(run('m:f({id: 5, other: nil})', [bare]).matched).toBe(true);
    expect(run('m:f(a) when a.id == 5 && "id" in a', [bare]).matched).toBe(true);
    expect(run('m:f(:error)', [bare]).matched).toBe(false);
  });

  it('circular objects', () => {
    const node: { id: number; self?: unknown } = { id: 1 };
    node.self = node;
    expect(run('m:f({self: {self: {self: {id: 1}}}})', [node]).matched).toBe(true);
    const list: unknown[] = [1];
    list.push(list);
    expect(run('m:f(a) when 2 in a', [list]).matched).toBe(false);
    expect(run('m:f([1, [1, [_, ...]]])', [list]).matched).toBe(true);
  });

  it('frozen and sealed objects', () => {
    expect(run('m:f({id: 5}, [1])', [Object.freeze({ id: 5 }), Object.freeze([1])]).matched).toBe(true);
    expect(run('m:f({id: 5})', [Object.seal({ id: 5 })]).matched).toBe(true);
  });

  it('huge strings', () => {
    const huge = 'a'.repeat(10_000_000);
    expect(run('m:f(s) when s.length == 10000000 && s ~ /^a+$/ && s[9999999] == "a"', [huge]).matched).toBe(true);
    expect(run('m:f("a")', [huge]).matched).toBe(false);
    expect(run('m:f(s, s)', [huge, 'a'.repeat(10_000_000)]).matched).toBe(true);
  });

  it('a typed array length is a prototype getter, so it is a guard error; its elements are data', () => {
    expect(run('m:f(a) when a.length == 2', [new Uint8Array(2)]).guardErrors).toBe(1);
    expect(run('m:f({0: 7})', [Uint8Array.of(7)]).matched).toBe(true);
  });

  it('string objects and functions have data properties', () => {
    expect(run('m:f({length: 2, 0: "h"})', [new String('hi')]).matched).toBe(true);
    expect(run('m:f(f) when f.name == "named" && f.length == 2', [function named(_a: unknown, _b: unknown) {}]).matched).toBe(true);
  });
});

describe('intrinsics replaced by the application after load are not called', () => {
  it('RegExp.prototype.exec, Object.hasOwn, __lookupGetter__, Array.isArray, Map.prototype.has', () => {
    let called = 0;
    type WithLookup = { __lookupGetter__(key: string): unknown };
    const objectPrototype = Object.prototype as unknown as WithLookup;
    const saved = {
      exec: RegExp.prototype.exec,
      gopd: Object.getOwnPropertyDescriptor,
      hasOwn: Object.hasOwn,
      lookupGetter: objectPrototype.__lookupGetter__,
      isArray: Array.isArray,
      has: Map.prototype.has,
    };
    const matcher = compilePattern('m:f(/^a/, {id: 1}, :array, m) when 1 in m');
    try {
      RegExp.prototype.exec = function exec() {
        called++;
        return null;
      };
      Object.getOwnPropertyDescriptor = (() => {
        called++;
        return undefined;
      }) as typeof Object.getOwnPropertyDescriptor;
      Object.hasOwn = () => {
        called++;
        return false;
      };
      objectPrototype.__lookupGetter__ = () => {
        called++;
        return undefined;
      };
      Array.isArray = ((value: unknown): value is unknown[] => {
        called++;
        return false;
      }) as typeof Array.isArray;
      Map.prototype.has = function has() {
        called++;
        return false;
      };
      expect(matcher.pre(undefined, ['abc', { id: 1 }, [], new Map([[1, 1]])])).toBeDefined();
    } finally {
      RegExp.prototype.exec = saved.exec;
      Object.getOwnPropertyDescriptor = saved.gopd;
      Object.hasOwn = saved.hasOwn;
      objectPrototype.__lookupGetter__ = saved.lookupGetter;
      Array.isArray = saved.isArray;
      Map.prototype.has = saved.has;
    }
    expect(called).toBe(0);
  });
});

describe('hostile strings in every place a string can appear', () => {
  const HOSTILE = [
    "'",
    '"',
    '\\',
    '${x}',
    '`${globalThis.__pwned = 1}`',
    '*/',
    '/*',
    '\n',
    '\r\n',
    '\u2028',
    '\u2029',
    '\0',
    '"); globalThis.__pwned = 1; ("',
    "' + (globalThis.__pwned = 1) + '",
    '\\u0041',
    '</script>',
    '😀',
    '\ud800',
    '__proto__',
    'constructor',
  ];

  const pattern = (params: ArgPattern[], module = 'm', fn = 'f'): PatternAst => ({
    kind: 'pattern',
    module,
    function: fn,
    params: { kind: 'args', patterns: params, rest: false },
    guard: null,
    actions: [],
  });

  /** Round-trips through text and compiles; returns the matcher built from the re-parsed text. */
  function throughText(ast: PatternAst): CompiledMatcher {
    const text = printPattern(ast);
    expect(parsePattern(text)).toEqual(ast);
    return compilePattern(text);
  }

  const escapeRegex = (text: string): string =>
    text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&').replace(/[\n\r\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

  it('string literals, object keys, guard keys, regex sources and globs', () => {
    for (const text of HOSTILE) {
      const literal = throughText(pattern([{ kind: 'string', value: text }]));
      expect(literal.pre(undefined, [text]), JSON.stringify(text)).toBeDefined();
      expect(literal.pre(undefined, [`${text}x`])).toBeUndefined();

      const keyed = throughText(pattern([{ kind: 'object', entries: [{ key: text, pattern: { kind: 'number', value: 1 } }] }]));
      const target = Object.defineProperty({}, text, { value: 1, enumerable: true });
      expect(keyed.pre(undefined, [target]), JSON.stringify(text)).toBeDefined();
      expect(keyed.pre(undefined, [{}])).toBeUndefined();

      const guarded = throughText({
        ...pattern([{ kind: 'bind', name: 'a' }]),
        guard: {
          kind: 'binary',
          operator: '==',
          left: { kind: 'member', object: { kind: 'name', name: 'a' }, key: { kind: 'string', value: text } },
          right: { kind: 'number', value: 1 },
        },
      });
      expect(guarded.pre(undefined, [target]), JSON.stringify(text)).toBeDefined();

      const regex = throughText(pattern([{ kind: 'regex', source: `^${escapeRegex(text)}$`, flags: 'u'.repeat(text === '\ud800' ? 0 : 1) }]));
      expect(regex.pre(undefined, [text]), JSON.stringify(text)).toBeDefined();
      expect(regex.pre(undefined, [`x${text}`])).toBeUndefined();

      const globbed = throughText(pattern([], text, text));
      expect(typeof globbed.matchModule({ id: text, kind: 'app' })).toBe('boolean');
      // Glob syntax (micromatch reads double quotes as quoting too) is not expected to match itself.
      if (!/[*?[\]{}()!+@\\"]/.test(text)) {
        expect(globbed.matchFunction(text), JSON.stringify(text)).toBe(true);
        expect(globbed.matchModule({ id: 'node:x', kind: 'builtin' })).toBe(false);
      }
    }
    expect((globalThis as { __pwned?: unknown }).__pwned).toBeUndefined();
  });
});
