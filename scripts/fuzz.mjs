// Fuzzes the pattern language far beyond what `npm test` runs, against the built package.
//
//   npm run build && node scripts/fuzz.mjs [cases=1000000] [seed]
//
// Inputs: random Unicode text (lone surrogates included), soups of pattern fragments, and
// random edits of valid patterns. For every input, parsePattern must either return a tree
// or throw a LivetraceError with an LT_PATTERN_* code, within a second; a returned tree
// must print back to text that parses to the same tree, and compile to a matcher whose
// pre() and post() do not throw. On failure fast-check shrinks the input and prints it,
// with the seed to replay it; the exit status is then 1.
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { LivetraceError } from '../dist/esm/protocol/errors.js';
import { compilePattern, parsePattern, printPattern } from '../dist/esm/pattern/index.js';

const cases = Number(process.argv[2] ?? 1_000_000);
const seed = process.argv[3] === undefined ? Date.now() % 2 ** 31 : Number(process.argv[3]);
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: node scripts/fuzz.mjs [cases] [seed]');
  process.exit(2);
}

const FRAGMENTS = [
  'm', 'src/users', 'node:fs', '*', '**', '#', '.', ':', 'f', '(', ')', '[', ']', '{', '}', ',', '...', '_', 'nil', 'null',
  'undefined', 'NaN', 'Infinity', 'true', 'X', 'x', 'id', '1', '-', '0.5', '1e3', '1e', '10n', '"a"', "'b'", '"', "'", '\\',
  '\\u{41}', '\\x4', '/', '/a/i', '/[/', '/(/', '|', ' when ', 'when', '->', ' -> ', 'stack', 'hist', 'count', 'this', 'args',
  'ret', 'err', 'threw', 'ms', '&&', '||', '!', '==', '!=', '===', '=', '<', '<=', '>', '>=', '+', '*', '%', '~', ' in ',
  ':string', ':array', ':strng', ' ', '\t', '\n', '\u2028', '@', '😀', '\ud800', '`', '$', '${', '*/', '((((', '))))', '[[[[',
];

const VALID = [
  'src/users:findUser(nil, ...) -> stack',
  'node:fs:readFile/2',
  'db:query(sql, ...) when sql ~ /^select/i && ms > 100',
  'src/**/repo*:UserRepo#save({id: X, tags: [_, ...]}, X) when X > 3 || threw -> stack, this',
  "m:f(-1, 10n, 'a\\'b', :string | :number, {\"k k\": nil}) when args.length >= 2 && !(ret == nil) -> hist",
  'pg:*Query(q) when "text" in q && q.text.length % 2 == 0 && -q.n < -(1) -> count',
];

const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(''));
const edit = fc
  .record({
    base: fc.constantFrom(...VALID),
    edits: fc.array(
      fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'binary', maxLength: 2 })) }),
      { minLength: 1, maxLength: 4 },
    ),
  })
  .map(({ base, edits }) =>
    edits.reduce((text, { at, remove, insert }) => {
      const position = at % (text.length + 1);
      return text.slice(0, position) + insert + text.slice(position + remove);
    }, base),
  );
const input = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  soup,
  soup.map((text) => `m:f(${text}`),
  soup.map((text) => `m:f(x, y) when ${text}`),
  edit,
);

const VALUES = [null, undefined, 0, -1, 'x', 1n, [1, 'x'], { id: 1, text: 'ab' }, new Map([[1, 1]]), Symbol('s'), new Proxy({}, {}), () => 1];
const OUTCOME = { ret: 1, err: undefined, threw: false, ms: 5 };

let done = 0;
let parsed = 0;
let slowest = { ms: 0, text: '' };
const started = performance.now();
const progressEvery = Math.max(1, Math.floor(cases / 10));

try {
  fc.assert(
    fc.property(input, (text) => {
      const before = performance.now();
      let ast;
      try {
        ast = parsePattern(text);
      } catch (error) {
        if (!(error instanceof LivetraceError) || !error.code.startsWith('LT_PATTERN_')) throw error;
      }
      const took = performance.now() - before;
      if (took > slowest.ms) slowest = { ms: took, text };
      if (took > 1_000) throw new Error(`parsing took ${took.toFixed(0)} ms`);
      if (ast !== undefined) {
        parsed++;
        const printed = printPattern(ast);
        if (!isDeepStrictEqual(parsePattern(printed), ast)) throw new Error(`printed form ${JSON.stringify(printed)} parses to a different tree`);
        const matcher = compilePattern(ast);
        for (let i = 0; i < VALUES.length; i++) {
          const bindings = matcher.pre(VALUES[i], VALUES.slice(i, i + 3));
          if (bindings !== undefined && matcher.post !== undefined) matcher.post(bindings, OUTCOME);
        }
      }
      if (++done % progressEvery === 0) {
        console.log(`${done} cases, ${parsed} valid, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      }
    }),
    { numRuns: cases, seed },
  );
} catch (error) {
  console.error(String(error instanceof Error ? error.message : error));
  console.error(`FAILED (seed ${seed}); replay with: node scripts/fuzz.mjs ${cases} ${seed}`);
  process.exit(1);
}

const seconds = (performance.now() - started) / 1000;
console.log(
  `ok: ${cases} cases (${parsed} valid patterns) in ${seconds.toFixed(1)} s, seed ${seed}; ` +
    `slowest parse ${slowest.ms.toFixed(2)} ms for ${JSON.stringify(slowest.text.slice(0, 60))}`,
);
