// The preload engine's costs, each next to its baseline in the same run:
//   npm run build && node bench/preload.mjs [--quick] [--json]
//
// 1. Idle dispatcher: a CJS export pinned at load (what `const { add } = require()` holds
//    under the preload) against the bare function, sync and async.
//    Beside them, the same function with its body instrumented (a module selected with
//    LIVETRACE_INSTRUMENT: src/agent/source/instrument.ts), idle.
// 2. ESM rebinding: the rewrite turns a never-assigned `export const` into `let`; a
//    caller's named import of each, called in a loop.
// 3. Start-up: N generated modules (ESM, then CJS) loaded with and without the preload,
//    timed inside the process around the import/require (so the agent's own start is not
//    counted), median of several processes; the difference divided by N is the cost per
//    module. Beside it, a no-op `module.register` load hook (Node's own cost of having
//    any async loader hook: one thread round trip per module), and our own per-module
//    work measured in this process (the rewrite, the pinning, the body instrumentation),
//    and for CJS a run with every module selected for body instrumentation.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pinExports } from '../dist/esm/agent/engines/preload/cjs.js';
import { rewriteModule } from '../dist/esm/agent/source/rewrite.js';
import { lexerReady, planWithLexer } from '../dist/esm/agent/source/rewrite-fast.js';
import { instrumentModule } from '../dist/esm/agent/engines/preload/instrument.js';
import { measure, measureAsync, report } from './harness.mjs';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const opts = quick ? { iterations: 500_000, rounds: 3, warmup: 50_000 } : {};
const asyncOpts = quick ? { iterations: 50_000, rounds: 3, warmup: 5_000 } : {};
const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'lt-bench-preload-'));

try {
  // 1. Idle dispatcher -------------------------------------------------------------------
  const file = join(work, 'target.cjs');
  writeFileSync(file, 'exports.add = function add(a, b) { return a + b; };\nexports.addAsync = async function addAsync(a, b) { return a + b; };\n');
  require(file);
  const module = require.cache[require.resolve(file)];
  const { add: bareAdd, addAsync: bareAsync } = module.exports;
  if (pinExports(module) !== 2) throw new Error('the fixture exports were not pinned');
  const { add: pinnedAdd, addAsync: pinnedAsync } = module.exports;
  if (pinnedAdd === bareAdd) throw new Error('no dispatcher installed');
  // The same text, its bodies instrumented, compiled as the preload's _compile hook would.
  const instrumentedFile = join(work, 'instrumented.cjs');
  const targetSource = readFileSync(file, 'utf8');
  writeFileSync(instrumentedFile, targetSource);
  const Module = require('node:module');
  const instrumentedModule = new Module(instrumentedFile);
  instrumentedModule.filename = instrumentedFile;
  instrumentedModule._compile(instrumentModule(targetSource, instrumentedFile) ?? 'throw new Error("not instrumented")', instrumentedFile);
  const { add: instrumentedAdd } = instrumentedModule.exports;
  // Bare and dispatcher loops alternate, several times, each keeping its best: on a busy
  // machine a single pass mostly measures which loop the scheduler disturbed.
  const best = { bare: Infinity, pinned: Infinity, instrumented: Infinity, bareAsync: Infinity, pinnedAsync: Infinity };
  for (let pass = 0; pass < (quick ? 2 : 4); pass++) {
    best.bare = Math.min(best.bare, measure(bareAdd, 'target(i, 1)', opts));
    best.pinned = Math.min(best.pinned, measure(pinnedAdd, 'target(i, 1)', opts));
    best.instrumented = Math.min(best.instrumented, measure(instrumentedAdd, 'target(i, 1)', opts));
    best.bareAsync = Math.min(best.bareAsync, await measureAsync(bareAsync, 'target(i, 1)', asyncOpts));
    best.pinnedAsync = Math.min(best.pinnedAsync, await measureAsync(pinnedAsync, 'target(i, 1)', asyncOpts));
  }
  const sync = [
    { name: 'bare call (destructured original)', ns: best.bare },
    { name: 'idle dispatcher (pinned, no session)', ns: best.pinned },
    { name: 'instrumented body, idle (same object, no session)', ns: best.instrumented },
  ];
  const asyncRows = [
    { name: 'bare async call', ns: best.bareAsync },
    { name: 'idle dispatcher, async', ns: best.pinnedAsync },
  ];
  report('preload: idle CJS dispatcher, sync', sync, { json });
  report('preload: idle CJS dispatcher, async', asyncRows, { json });

  // 2. ESM rebinding -----------------------------------------------------------------------
  writeFileSync(join(work, 'const.mjs'), 'export const f = (a, b) => a + b;\n');
  writeFileSync(join(work, 'let.mjs'), 'export let   f = (a, b) => a + b;\n');
  for (const kind of ['const', 'let']) {
    writeFileSync(join(work, `call-${kind}.mjs`), `import { f } from './${kind}.mjs';\nexport const call = (i) => f(i, 1);\n`);
  }
  const { call: viaConst } = await import(pathToFileURL(join(work, 'call-const.mjs')).href);
  const { call: viaLet } = await import(pathToFileURL(join(work, 'call-let.mjs')).href);
  report('preload: ESM named import of an export', [
    { name: 'export const (as written)', ns: measure(viaConst, 'target(i)', opts) },
    { name: 'export let (as rewritten)', ns: measure(viaLet, 'target(i)', opts) },
  ], { json });

  // 3. Start-up per module -------------------------------------------------------------------
  const N = 200;
  const runs = quick ? 3 : 7;
  const register = join(root, 'dist/esm/register.js');
  const noopHooks = join(work, 'noop-hooks.mjs');
  writeFileSync(noopHooks, 'export async function load(url, context, next) { return next(url, context); }\n');
  const registerNoop = join(work, 'register-noop.mjs');
  writeFileSync(registerNoop, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(noopHooks).href)});\n`);

  // Our own work per module, in this process: the rewrite (first pass on a cold parser, as
  // in the loader thread at start-up, then warm) and the pinning of a loaded CJS module.
  generate(join(work, 'esm'), 'esm', N);
  generate(join(work, 'cjs'), 'cjs', N);
  const sources = Array.from({ length: N }, (_, i) => readFileSync(join(work, 'esm', `m${i}.mjs`), 'utf8'));
  // As in the loader thread, which starts the lexer before its first module: the rewrite
  // is planned by es-module-lexer where it is certain, by acorn otherwise.
  await lexerReady();
  const lexerPlanned = sources.filter((source) => planWithLexer(source) !== undefined).length;
  const rewriteUs = (pass) => {
    const t0 = process.cpuUsage();
    for (const source of sources) if (rewriteModule(source) === undefined) throw new Error(`rewrite failed (${pass})`);
    return cpuUs(t0) / N;
  };
  const coldRewrite = rewriteUs('cold');
  const warmRewrite = rewriteUs('warm');
  const cjsModules = Array.from({ length: N }, (_, i) => {
    const path = join(work, 'cjs', `m${i}.cjs`);
    require(path);
    return require.cache[path];
  });
  const t0 = process.cpuUsage();
  let pinned = 0;
  for (const m of cjsModules) pinned += pinExports(m);
  const pinUs = cpuUs(t0) / N;
  const cjsSources = Array.from({ length: N }, (_, i) => readFileSync(join(work, 'cjs', `m${i}.cjs`), 'utf8'));
  const instrumentUs = (pass) => {
    const t1 = process.cpuUsage();
    cjsSources.forEach((source, i) => {
      if (instrumentModule(source, join(work, 'cjs', `x${pass}${i}.cjs`)) === undefined) throw new Error('instrumentation failed');
    });
    return cpuUs(t1) / N;
  };
  const coldInstrument = instrumentUs('cold');
  const warmInstrument = instrumentUs('warm');

  // End to end: whole processes, timed around the import/require of all N modules.
  const rows = [];
  for (const kind of ['esm', 'cjs']) {
    const main = join(work, kind, kind === 'esm' ? 'main.mjs' : 'main.cjs');
    const plain = medians(runs, () => timeLoad(main, []));
    const hooksOnly = medians(runs, () => timeLoad(main, ['--import', registerNoop]));
    const preloaded = medians(runs, () => timeLoad(main, ['--import', register]));
    const perModuleUs = (t) => ({ wall: ((t.wall - plain.wall) / N) * 1000, cpu: ((t.cpu - plain.cpu) / N) * 1000 });
    // Beyond Node's own cost of an async load hook: what livetrace adds per module.
    const overHooks = { wall: ((preloaded.wall - hooksOnly.wall) / N) * 1000, cpu: ((preloaded.cpu - hooksOnly.cpu) / N) * 1000 };
    const row = { kind, plain, hooksOnly, preloaded, perModuleUs: perModuleUs(preloaded), hooksOnlyPerModuleUs: perModuleUs(hooksOnly), overHooksPerModuleUs: overHooks };
    if (kind === 'cjs') {
      row.instrumented = medians(runs, () => timeLoad(main, ['--import', register], { LIVETRACE_INSTRUMENT: '**/m*.cjs' }));
      row.instrumentedPerModuleUs = perModuleUs(row.instrumented);
    }
    rows.push(row);
  }
  if (json) {
    console.log(JSON.stringify({ title: 'preload: start-up', node: process.version, modules: N, runs, lexerPlanned, coldRewrite, warmRewrite, pinUs, pinned, coldInstrument, warmInstrument, rows }));
  } else {
    console.log(`\npreload: start-up work per module, in process (${N} generated modules, CPU time)`);
    console.log(`  ESM rewrite (lexer plans ${lexerPlanned} of ${N}, acorn the rest)  cold ${coldRewrite.toFixed(0)} µs, warm ${warmRewrite.toFixed(0)} µs per module`);
    console.log(`  CJS pinning (${(pinned / N).toFixed(0)} dispatchers a module)   ${pinUs.toFixed(0)} µs per module`);
    console.log(`  CJS body instrumentation (parse + rewrite)  cold ${coldInstrument.toFixed(0)} µs, warm ${warmInstrument.toFixed(0)} µs per module`);
    console.log(`\npreload: start-up end to end (ms to load all ${N} modules in a fresh process, wall / process CPU, median of ${runs})`);
    const ms = (t) => `${t.wall.toFixed(0).padStart(5)} / ${t.cpu.toFixed(0).padStart(5)}`;
    for (const r of rows) {
      console.log(
        `  ${r.kind}  without ${ms(r.plain)}   no-op load hook ${ms(r.hooksOnly)}   with preload ${ms(r.preloaded)}` +
          `   => ${r.perModuleUs.wall.toFixed(0)} / ${r.perModuleUs.cpu.toFixed(0)} µs per module` +
          ` (no-op hook ${r.hooksOnlyPerModuleUs.wall.toFixed(0)} / ${r.hooksOnlyPerModuleUs.cpu.toFixed(0)}, livetrace beyond it ${r.overHooksPerModuleUs.wall.toFixed(0)} / ${r.overHooksPerModuleUs.cpu.toFixed(0)})`,
      );
      if (r.instrumented !== undefined) {
        console.log(`  cjs  every module instrumented (LIVETRACE_INSTRUMENT) ${ms(r.instrumented)}   => ${r.instrumentedPerModuleUs.wall.toFixed(0)} / ${r.instrumentedPerModuleUs.cpu.toFixed(0)} µs per module`);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

/** N modules of a realistic size (functions, a class, a const arrow, some top-level work), and a main that loads them all. */
function generate(dir, kind, n) {
  mkdirSync(dir, { recursive: true });
  const ext = kind === 'esm' ? 'mjs' : 'cjs';
  for (let i = 0; i < n; i++) {
    const body = [
      `function helper${i}(x) { return x * ${i + 1}; }`,
      `function find${i}(items, id) { for (const item of items) { if (item.id === id) return item; } return null; }`,
      `function format${i}(user) { return \`\${user.name} <\${user.email}> #${i}\`; }`,
      `async function load${i}(id) { await null; return { id, name: 'user' + id, email: id + '@example.com' }; }`,
      `function sum${i}(list) { let total = 0; for (const x of list) total += helper${i}(x); return total; }`,
      `const normalize${i} = (s) => String(s).trim().toLowerCase();`,
      `class Repo${i} { constructor() { this.rows = []; } save(row) { this.rows.push(row); return row; } all() { return [...this.rows]; } }`,
      `const table${i} = Array.from({ length: 20 }, (_, k) => ({ id: k, name: 'n' + k }));`,
      `const config${i} = { name: 'module${i}', retries: 3, timeoutMs: 1000, tags: ['a', 'b', 'c'] };`,
    ];
    const names = [`find${i}`, `format${i}`, `load${i}`, `sum${i}`, `normalize${i}`, `Repo${i}`, `config${i}`];
    const tail = kind === 'esm' ? `export { ${names.join(', ')} };` : `module.exports = { ${names.join(', ')} };`;
    writeFileSync(join(dir, `m${i}.${ext}`), `${body.join('\n')}\nfind${i}(table${i}, 3);\n${tail}\n`);
  }
  const loads = Array.from({ length: n }, (_, i) =>
    kind === 'esm' ? `import * as m${i} from './m${i}.mjs';` : `require('./m${i}.cjs');`,
  ).join('\n');
  writeFileSync(join(dir, `all.${ext}`), `${loads}\n`);
  // Prints wall ms and process CPU ms (all threads: the loader thread's work counts).
  const report = 'const c = process.cpuUsage(c0);\nconsole.log(JSON.stringify({ wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 }));\n';
  const start = 'const t0 = performance.now();\nconst c0 = process.cpuUsage();\n';
  const main = kind === 'esm' ? `${start}await import('./all.mjs');\n${report}` : `${start}require('./all.cjs');\n${report}`;
  writeFileSync(join(dir, `main.${ext}`), main);
}

function timeLoad(main, args, extraEnv = {}) {
  const socketDir = mkdtempSync(join(tmpdir(), 'lt-bench-sock-'));
  try {
    const env = { ...process.env, ...extraEnv, LIVETRACE_SOCKET_DIR: socketDir };
    delete env.NODE_OPTIONS;
    // In the modules' folder: module ids (and so LIVETRACE_INSTRUMENT's glob) are relative to the app root, the cwd here.
    return JSON.parse(execFileSync(process.execPath, [...args, main], { env, cwd: dirname(main), encoding: 'utf8', timeout: 30_000 }));
  } finally {
    rmSync(socketDir, { recursive: true, force: true });
  }
}

/** Median wall and median CPU of n samples ({ wall, cpu } in ms). */
function medians(n, sample) {
  const samples = Array.from({ length: n }, sample);
  const mid = (key) => samples.map((s) => s[key]).sort((a, b) => a - b)[Math.floor(n / 2)];
  return { wall: mid('wall'), cpu: mid('cpu') };
}

function cpuUs(since) {
  const used = process.cpuUsage(since);
  return used.user + used.system;
}
