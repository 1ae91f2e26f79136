/**
 * parametersOf reads only a function's head (params.ts); parsing the whole text is the
 * reference. These tests hold the two together over real functions (every function the
 * packages in node_modules export, and every function written in their files) and over
 * generated heads whose default values hide parentheses and braces in strings, template
 * literals, regular expressions, comments and nested functions.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { parse, type Node } from 'acorn';
import { simple } from 'acorn-walk';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headOf, MAX_SOURCE_LENGTH, parametersOf, parseWholeSource, plainParameters, readParameters, wholeParameters } from '../../../../src/agent/source/params.js';

const require = createRequire(import.meta.url);
const root = join(import.meta.dirname, '../../../..');
const toText = (fn: Function): string => Function.prototype.toString.call(fn);

/**
 * Where the whole parse has an answer the head gives the same one (node for node: the
 * head is a prefix of the text, parsed in the same wrapping, so even offsets agree).
 * Where the whole parse fails, the head may only succeed on a body acorn rejects out of
 * its context (params.ts): the text must show such a construct.
 */
function expectSameAnswer(source: string, real = true): 'plain' | 'head' | 'whole' {
  const whole = wholeParameters(source);
  const read = readParameters(source);
  const plain = plainParameters(source);
  if (whole !== undefined) {
    expect(read, source).toEqual(whole);
    // Each way by itself, not through the fallback to the whole parse: a plain head reads
    // the same, and a head (a class aside) parses to the same nodes, offsets included.
    if (plain !== undefined) expect(plain, source).toEqual(whole);
    if (!/^class\b\s*[^\s(]/.test(source)) expect(parseWholeSource(headOf(source) ?? ''), source).toEqual(parseWholeSource(source));
  } else if (read !== undefined && real) {
    expect(source, 'the head read names the whole parse could not').toMatch(/#|import\.meta|super|new\.target/);
  }
  return plain !== undefined ? 'plain' : /^class\b\s*[^\s(]/.test(source) ? 'whole' : 'head';
}

/** Whether V8 compiles the text as one function in a wrapping params.ts uses (compiled, never run). */
function v8Accepts(source: string): boolean {
  for (const wrapped of [`(${source}\n)`, `({${source}\n})`, `(class {${source}\n})`]) {
    try {
      new Script(wrapped);
      return true;
    } catch {
      // Not in this wrapping.
    }
  }
  return false;
}

function collect(value: unknown, out: Set<Function>, seen: Set<unknown>, depth: number): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value) || depth > 4) return;
  seen.add(value);
  if (typeof value === 'function') out.add(value);
  for (const key of Reflect.ownKeys(value)) {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, key);
    if (descriptor === undefined) continue;
    if (typeof descriptor.get === 'function') out.add(descriptor.get);
    if (typeof descriptor.set === 'function') out.add(descriptor.set);
    if ('value' in descriptor) collect(descriptor.value, out, seen, depth + 1);
  }
  collect(Reflect.getPrototypeOf(value), out, seen, depth + 1);
}

describe('the head gives the whole parse answer', () => {
  it('for every function the packages in node_modules export (their text as V8 keeps it)', () => {
    const functions = new Set<Function>();
    const seen = new Set<unknown>([Object.prototype, Function.prototype]);
    for (const name of ['express', 'koa', 'koa-compose', 'acorn', 'acorn-walk', 'acorn-loose', 'commander', 'fast-check', 'esbuild', 'typescript']) {
      collect(require(name), functions, seen, 0);
    }
    const ways = { plain: 0, head: 0, whole: 0 };
    let named = 0;
    for (const fn of functions) {
      const source = toText(fn);
      if (source.length > MAX_SOURCE_LENGTH) continue;
      ways[expectSameAnswer(source)]++;
      if ((parametersOf(fn)?.params.length ?? 0) > 0) named++;
    }
    // Not vacuous: typescript alone exports thousands of functions, and both ways are taken.
    expect(ways.plain + ways.head + ways.whole).toBeGreaterThan(3_000);
    expect(ways.plain).toBeGreaterThan(1_000);
    expect(ways.head).toBeGreaterThan(30);
    expect(named).toBeGreaterThan(500);
  }, 120_000);

  it('for every function written in the files of a few packages (the text V8 would keep for each)', () => {
    const files: string[] = [];
    const ways = { plain: 0, head: 0, whole: 0 };
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (name === 'node_modules' || name === 'test' || name === 'tests') continue;
        const stat = statSync(path);
        if (stat.isDirectory()) walk(path);
        else if (/\.(c|m)?js$/.test(name) && !name.endsWith('.min.js') && stat.size < 400_000) files.push(path);
      }
    };
    for (const name of ['express', 'router', 'body-parser', 'send', 'qs', 'koa', 'koa-compose', 'cookies', 'commander', 'acorn/dist/acorn.js', 'fast-check/lib/fast-check.js']) {
      const path = join(root, 'node_modules', name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      let program: Node | undefined;
      for (const sourceType of ['module', 'script'] as const) {
        try {
          program = parse(text, { ecmaVersion: 'latest', sourceType, allowHashBang: true });
          break;
        } catch {
          program = undefined;
        }
      }
      if (program === undefined) continue;
      const sources: string[] = [];
      const fn = (node: Node): void => void sources.push(text.slice(node.start, node.end));
      // A method's text starts at its key (after `static`, which V8 leaves out).
      const method = (node: Node & { value: Node; static?: boolean; key: Node; kind?: string; method?: boolean }): void => {
        if (node.value.type !== 'FunctionExpression') return;
        if (node.kind === 'init' && node.method !== true) return;
        sources.push(text.slice(node.start, node.end).replace(/^static\s+/, ''));
      };
      simple(program, {
        FunctionDeclaration: fn,
        FunctionExpression: fn,
        ArrowFunctionExpression: fn,
        ClassDeclaration: fn,
        ClassExpression: fn,
        MethodDefinition: method as never,
        Property: method as never,
      });
      for (const source of sources) {
        if (source.length > 20_000) continue;
        ways[expectSameAnswer(source)]++;
      }
    }
    expect(ways.plain).toBeGreaterThan(1_000);
    expect(ways.head).toBeGreaterThan(300);
  }, 240_000);
});

// ---- generated heads ---------------------------------------------------------------------

const gap = fc.constantFrom('', ' ', '\n', ' /* ) { */ ', '/*(*/', ' // ) {\n');
const name = fc.constantFrom('user', 'password', 'pass', 'token', 'a', 'b', '$x', '_y', 'apiKey', 'async', 'get', 'of');

/** Expressions whose text holds `(`, `)`, `{`, `}`, `=>` and `/` where a scan by hand would stumble. */
const { expression } = fc.letrec<{ expression: string }>((tie) => ({
  expression: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(
      "')'",
      '"(("',
      "'}'",
      '`)`',
      "`${')'}(`",
      '/\\)/g',
      '/[(]/',
      '/}/',
      '1 / 2 / 3',
      'x => (y)',
      'async z => z',
      'function (q = ")") { return "}" }',
      'class { m(a = "(") {} }',
      '{ a: [1, (2)] }',
      '[")", "{"]',
      '0x1f',
      '1n',
      'null ?? ")"',
      'o?.(")")',
    ),
    tie('expression').map((e) => `(${e as string})`),
    tie('expression').map((e) => `[${e as string}]`),
    tie('expression').map((e) => `{ k: ${e as string} }`),
    tie('expression').map((e) => `\`a\${${e as string}}b\``),
    fc.tuple(tie('expression'), tie('expression')).map(([l, r]) => `${l as string} + ${r as string}`),
    fc.tuple(name, tie('expression')).map(([n, e]) => `(${n} = ${e as string}) => ${n}`),
    fc.tuple(name, tie('expression')).map(([n, e]) => `function (${n}) { return ${e as string} }`),
  ),
}));

const param = fc.oneof(
  name,
  fc.tuple(name, expression).map(([n, e]) => `${n} = ${e}`),
  fc.tuple(name, name, expression).map(([k, n, e]) => `{ ${k}: ${n} = ${e} }`),
  fc.tuple(name, name).map(([k, n]) => `{ ${k}, '${n}': x }`),
  fc.tuple(name, expression).map(([n, e]) => `[${n}, , y = ${e}]`),
  fc.tuple(expression, name).map(([e, n]) => `{ [${e}]: ${n} }`),
);
const paramList = fc
  .tuple(fc.array(fc.tuple(gap, param), { maxLength: 4 }), fc.option(name), fc.boolean())
  .map(([params, rest, comma]) => {
    const parts = params.map(([g, p]) => `${g}${p}`);
    if (rest !== null) parts.push(`...${rest}`);
    return parts.join(',') + (comma && rest === null && parts.length > 0 ? ',' : '');
  });
const body = fc.oneof(fc.constant('{}'), expression.map((e) => `{ return ${e}; }`), fc.constantFrom('{ return this.#hidden; }', '{ /* ) */ }'));
const arrowBody = fc.oneof(body, expression.map((e) => `(${e})`), expression.filter((e) => !e.startsWith('{')));
const key = fc.oneof(
  name,
  fc.constantFrom("'a b'", '42', '#p', 'function', 'class', 'static', 'constructor'),
  expression.map((e) => `[${e}]`),
);

const shaped = fc.oneof(
  fc.tuple(fc.constantFrom('function', 'async function', 'function*', 'async function*'), fc.option(name), gap, paramList, gap, body).map(
    ([kind, n, g1, p, g2, b]) => `${kind} ${n ?? ''}${g1}(${p})${g2}${b}`,
  ),
  fc.tuple(fc.constantFrom('', 'async '), paramList, gap, arrowBody).map(([a, p, g, b]) => `${a}(${p})${g}=> ${b}`),
  fc.tuple(fc.constantFrom('', 'async '), name, arrowBody).map(([a, n, b]) => `${a}${n} => ${b}`),
  fc.tuple(fc.constantFrom('', 'async ', '*', 'async *', 'get ', 'set ', 'static '), key, gap, paramList, gap, body).map(
    ([m, k, g1, p, g2, b]) => `${m}${k}${g1}(${p})${g2}${b}`,
  ),
  fc.tuple(fc.option(name), fc.option(expression), paramList, body).map(
    ([n, heritage, p, b]) => `class ${n ?? ''} ${heritage === null ? '' : `extends (${heritage}) `}{ m(q = '(') {} constructor(${p}) ${b} }`,
  ),
);

describe('property: the head gives the whole parse answer', () => {
  it('on generated functions, methods, arrows and classes', () => {
    let parsed = 0;
    const ways = { plain: 0, head: 0, whole: 0 };
    fc.assert(
      fc.property(shaped, (source) => {
        // A text V8 refuses (a generated `async z => z` inside a sum) is no function's
        // text: the head may read names from it where the whole parse fails.
        const way = expectSameAnswer(source, v8Accepts(source));
        if (parseWholeSource(source) !== undefined) {
          parsed++;
          ways[way]++;
        }
      }),
      { numRuns: 1_000 },
    );
    // Not vacuous: most generated texts are valid JavaScript.
    expect(parsed).toBeGreaterThan(250);
    expect(ways.plain).toBeGreaterThan(25);
    expect(ways.head).toBeGreaterThan(120);
  }, 120_000);

  it('on random text: never throws, and agrees wherever the whole parse has an answer', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'()[]{}`\'"/=>,.ab $#*\n'.split('')), maxLength: 40 }), (source) => {
        expectSameAnswer(source, false);
      }),
      { numRuns: 2_000 },
    );
  }, 60_000);
});

describe('what the head reads', () => {
  it('reads each shape the whole parse reads', () => {
    const names = (source: string): string[] | undefined => readParameters(source)?.params.map((p) => p.names[0]!);
    expect(names('function login(user, password = ")") { return "(" }')).toEqual(['user', 'password']);
    expect(names('async (user, pass = `${")"}`) => user')).toEqual(['user', 'pass']);
    expect(names('token => token')).toEqual(['token']);
    expect(plainParameters('async function* login(user,\n password, ...rest) {')).toEqual({
      params: [
        { name: 'user', names: ['user'] },
        { name: 'password', names: ['password'] },
      ],
      rest: ['rest'],
    });
    expect(plainParameters('set secret(v) {}')?.params).toEqual([{ name: 'v', names: ['v'] }]);
    expect(plainParameters('(a, b,) => a')?.params.length).toBe(2);
    expect(plainParameters('(a = 1) => a')).toBeUndefined();
    expect(plainParameters('f(a /* b */) {}')).toBeUndefined();
    expect(plainParameters('(a, ...b,) => a')).toBeUndefined();
    expect(names('async token => token')).toEqual(['token']);
    expect(names('get(key, re = /\\)/) { return key }')).toEqual(['key', 're']);
    expect(names('[Symbol.for("(")](secret) {}')).toEqual(['secret']);
    expect(names('#check(pass /* ) */) {}')).toEqual(['pass']);
    expect(names('set value(v) {}')).toEqual(['v']);
    expect(names('class Vault extends make("(") { open() {} constructor(name, passphrase) {} }')).toEqual(['name', 'passphrase']);
    expect(names('class(a) {}')).toEqual(['a']);
    // In parentheses these parse as `async * function(q) {}`, a product: a method's text.
    expect(wholeParameters('async *function(q) {}')?.params.map((p) => p.names[0])).toEqual(['q']);
    expect(names('async *function(q) {}')).toEqual(['q']);
    expect(names('function max() { [native code] }')).toBeUndefined();
    expect(names('function (a) { [native code] }')).toBeUndefined();
  });

  it('reads a method whose body uses its class private names, which the whole parse could not', () => {
    class Vault {
      #key = 'k';
      open(password: string): string {
        return this.#key + password;
      }
    }
    expect(parseWholeSource(toText(Vault.prototype.open))).toBeUndefined();
    expect(parametersOf(Vault.prototype.open)).toEqual({ params: [{ name: 'password', names: ['password'] }], rest: undefined });
  });
});
