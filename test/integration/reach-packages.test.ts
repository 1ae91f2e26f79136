/**
 * node_modules: left alone by the preload by default, wrapped like the app's own files
 * with LIVETRACE_PRELOAD_PACKAGES=1; LIVETRACE_PRELOAD=0 turns the preload engine off;
 * it turns on only on the main thread of a process started with a preload flag.
 * The package is written into a temp directory at test time (node_modules is not in git).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cleanup, launchApp, registerCjs, tempDir } from './fixture-app.js';
import { callsOf, runReach } from './reach-harness.js';

afterEach(cleanup);

let caller: string;

beforeEach(() => {
  const dir = tempDir('lt-reach-pkg-');
  const pkg = join(dir, 'node_modules', 'reach-pkg');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'reach-pkg', version: '1.0.0' }));
  writeFileSync(join(pkg, 'index.cjs'), 'exports.pkgCjs = function pkgCjs(x) { return x; };\n');
  writeFileSync(join(pkg, 'esm.mjs'), 'export function pkgEsm(x) { return x; }\n');
  caller = join(dir, 'caller.mjs');
  writeFileSync(
    caller,
    [
      "import { createRequire } from 'node:module';",
      "import { pkgEsm } from './node_modules/reach-pkg/esm.mjs';",
      "const { pkgCjs } = createRequire(import.meta.url)('./node_modules/reach-pkg/index.cjs');",
      "export function run() { pkgEsm('esm'); pkgCjs('cjs'); }",
      '',
    ].join('\n'),
  );
});

const patterns = ['reach-pkg/*:*'];

describe('node_modules and the preload', () => {
  it('by default the preload leaves packages alone: destructured and ESM callers are not seen', async () => {
    const run = await runReach('import', 'after', patterns, [caller], { REACH_LS: 'reach-pkg/' });
    expect(callsOf(run)).toEqual([]);
    // The CJS package is listed for the exports engine, with the warning; the ES module is not reachable.
    expect(run.listed).toEqual([
      {
        fn: 'reach-pkg/index.cjs:pkgCjs',
        engine: 'exports',
        warning:
          'callers that destructured this export before the trace started are not seen; the preload leaves node_modules alone unless LIVETRACE_PRELOAD_PACKAGES=1; or use a probe',
      },
    ]);
  });

  it('LIVETRACE_PRELOAD_PACKAGES=1 wraps them like the app', async () => {
    const run = await runReach('import', 'after', patterns, [caller], { LIVETRACE_PRELOAD_PACKAGES: '1', REACH_LS: 'reach-pkg/' });
    expect(callsOf(run)).toEqual([
      ['reach-pkg/esm.mjs:pkgEsm', 'esm'],
      ['reach-pkg/index.cjs:pkgCjs', 'cjs'],
    ]);
    expect(new Set(run.calls.map((c) => c.engine))).toEqual(new Set(['preload']));
    expect(run.listed).toEqual([
      { fn: 'reach-pkg/esm.mjs:pkgEsm', engine: 'preload', warning: null },
      { fn: 'reach-pkg/index.cjs:pkgCjs', engine: 'preload', warning: null },
    ]);
  });

  it('LIVETRACE_PRELOAD=0 turns the preload engine off (the agent still runs)', async () => {
    const run = await runReach('require', 'after', ['lib/math:*'], ['./lib/callers.cjs']);
    const off = await runReach('require', 'after', ['lib/math:*'], ['./lib/callers.cjs'], { LIVETRACE_PRELOAD: '0' });
    expect(callsOf(run)).toEqual([['lib/math.cjs:add', 1, 2], ['lib/math.cjs:add', 3, 4]]);
    expect(callsOf(off)).toEqual([['lib/math.cjs:add', 1, 2]]);
  });
});

describe('when the preload engine turns on', () => {
  const probe = (load: string): string[] => ['-e', `${load}\nconsole.log('main ' + (globalThis[Symbol.for('livetrace.preload.esm.v1')] !== undefined));`];

  it('not when the entry is loaded into a running process without a preload flag (as attach does)', async () => {
    const app = await launchApp(probe(`require(${JSON.stringify(registerCjs)});`), { preload: 'none', ready: null });
    await app.exited;
    expect(app.lines).toContain('main false');
  });

  it('with a preload flag, on the main thread', async () => {
    const app = await launchApp(probe(''), { preload: 'require', ready: null });
    await app.exited;
    expect(app.lines).toContain('main true');
  });

  it('not in worker threads, which run the preload too', async () => {
    const code = `
      const { Worker } = require('node:worker_threads');
      const w = new Worker("console.log('worker ' + (globalThis[Symbol.for('livetrace.preload.esm.v1')] !== undefined))", { eval: true });
      w.on('exit', () => console.log('main ' + (globalThis[Symbol.for('livetrace.preload.esm.v1')] !== undefined)));`;
    const app = await launchApp(['-e', code], { preload: 'require', ready: null });
    await app.exited;
    expect(app.lines.sort()).toEqual(['main true', 'worker false']);
  });
});
