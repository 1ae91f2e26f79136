// What a per-module source pass costs at start-up, for two decisions of issue 12:
//   npm run build && node bench/parse-cost.mjs [--esm-from <dir>] [--cjs-from <dir>...]
//
// 1. ESM preload (issue 18 target: <= 0.3 ms per module): the rewrite by a full acorn
//    parse (as before), es-module-lexer's parse alone, and rewriteModule as it is now (the
//    lexer plans modules it is certain of, acorn the rest: src/agent/source/rewrite-fast.ts),
//    over the same real ES modules (default: up to 200 `.mjs` files from this checkout's
//    node_modules).
// 2. CommonJS body instrumentation (a Module.prototype._compile source rewrite): at the
//    least an acorn parse of every module as it loads, which the CommonJS preload does not
//    pay today (it pins exports after the body ran). Measured over the .js files of the
//    given directories (e.g. the peer projects' own lib/ folders).
//    Now built for the modules a user selects (LIVETRACE_INSTRUMENT, `run -t` module
//    globs): the parse alone, and instrumentSource (parse + the body rewrite, as the
//    `_compile` hook runs it), over the same files.
// Each is timed cold (the first pass, as at start-up, parser JIT cold) and warm (mean of
// three more passes), in CPU ms per module, in this process.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rewriteModule, rewriteModuleWithAcorn } from '../dist/esm/agent/source/rewrite.js';
import { lexerReady, planWithLexer } from '../dist/esm/agent/source/rewrite-fast.js';
import { instrumentSource } from '../dist/esm/agent/source/instrument.js';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const esmFrom = args.includes('--esm-from') ? args[args.indexOf('--esm-from') + 1] : join(root, 'node_modules');
const cjsDirs = args.flatMap((a, i) => (args[i - 1] === '--cjs-from' ? [a] : []));

// CPU time of this process (user + system), not wall time: on a shared, loaded machine
// wall time mostly measures the other jobs.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
function time(label, sources, fn) {
  const t0 = cpuMs();
  for (const s of sources) try { fn(s); } catch { /* unparsable: counted as done */ }
  const cold = cpuMs() - t0;
  const t1 = cpuMs();
  for (let r = 0; r < 3; r++) for (const s of sources) try { fn(s); } catch { /* as above */ }
  const warm = (cpuMs() - t1) / 3;
  console.log(`  ${label}: cold ${(cold / sources.length).toFixed(3)} ms/module, warm ${(warm / sources.length).toFixed(3)} ms/module`);
}
const kib = (sources) => (sources.reduce((n, s) => n + s.length, 0) / sources.length / 1024).toFixed(1);

const esmFiles = execFileSync('find', [esmFrom, '-name', '*.mjs', '-size', '+1k', '-size', '-400k'], { encoding: 'utf8' })
  .trim().split('\n').filter((f) => f !== '' && !f.endsWith('.d.mjs')).slice(0, 200);
const esm = esmFiles.map((f) => readFileSync(f, 'utf8'));
console.log(`ESM: ${esm.length} modules from ${esmFrom}, ${kib(esm)} KiB average`);
time('rewrite by acorn (before)', esm, (s) => rewriteModuleWithAcorn(s));
let lexer;
try {
  lexer = await import('es-module-lexer');
  await lexer.init;
} catch {
  console.log('  es-module-lexer: not installed here');
}
if (lexer) time('es-module-lexer parse alone', esm, (s) => lexer.parse(s));
await lexerReady();
const planned = esm.filter((s) => planWithLexer(s) !== undefined);
// The lexer's plan must give acorn's text byte for byte (the unit tests check it over every
// .mjs of the checkout and generated modules; this checks the modules measured here).
const different = planned.filter((s) => rewriteModule(s) !== rewriteModuleWithAcorn(s)).length;
console.log(`  the lexer plans ${planned.length} of ${esm.length} modules (${kib(planned)} KiB average); acorn the rest; ${different} differ from acorn's text`);
if (different > 0) process.exitCode = 1;
time('the lexer path alone (es-module-lexer + checks), modules it plans', planned, (s) => planWithLexer(s));
time('rewriteModule now, modules the lexer plans', planned, (s) => rewriteModule(s));
time('rewriteModule now, all (lexer where certain, else acorn)', esm, (s) => rewriteModule(s));

if (cjsDirs.length > 0) {
  const acorn = require('acorn');
  const cjs = cjsDirs.flatMap((dir) => readdirSync(dir).map((f) => join(dir, f)).filter((f) => f.endsWith('.js') && statSync(f).isFile())).map((f) => readFileSync(f, 'utf8'));
  console.log(`CommonJS: ${cjs.length} modules from ${cjsDirs.join(' ')}, ${kib(cjs)} KiB average`);
  time('acorn parse (the least a _compile rewrite needs)', cjs, (s) =>
    acorn.parse(s, { ecmaVersion: 'latest', sourceType: 'script', allowReturnOutsideFunction: true, allowHashBang: true }));
  let functions = 0;
  for (const s of cjs) functions += instrumentSource(s, { tag: 'ltbench0000' }, 0, 'undefined')?.sites.length ?? 0;
  console.log(`  ${(functions / cjs.length).toFixed(1)} functions instrumented per module on average`);
  time('instrumentSource (parse + body rewrite, what a selected module pays)', cjs, (s) => instrumentSource(s, { tag: 'ltbench0000' }, 0, 'undefined'));
}

// 3. ES module body instrumentation (src/agent/source/instrument-esm.ts), what a selected ES
//    module pays in the loader thread instead of rewriteModule: one acorn parse planning both
//    rewrites, and V8's compile check of the result; over the same ES modules as 1.
const { instrumentEsmModule } = await import('../dist/esm/agent/source/instrument-esm.js');
const bodies = esm.map((s) => instrumentEsmModule(s, 'ltbench0000', -1)).filter((r) => r !== undefined);
console.log(`ESM body instrumentation: takes ${bodies.length} of ${esm.length} modules, ${(bodies.reduce((n, r) => n + r.sites, 0) / bodies.length).toFixed(1)} functions each`);
time('instrumentEsmModule (parse, both rewrites, compile check)', esm, (s) => instrumentEsmModule(s, 'ltbench0000', -1));
