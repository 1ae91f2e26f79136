// Two builds of livetrace in ONE process, tracing the engine benchmark's async fixture in
// turn, round by round: on a machine shared with other work, two processes differ by up to
// 2x (docs/benchmarks.md), which hides a change of a few percent; rounds interleaved in one
// process see the same load, the same CPU and the same fixture.
//   npm run build && node bench/async-ab.mjs <other-checkout> [row] [rounds]
// <other-checkout>: the root of another built worktree (its dist/esm/index.js is loaded as
// "base"; this checkout's is "branch"). row: captured (default), flat (parents: false),
// args, guard, dropped: the engine benchmark's async rows. Each round measures the bare
// call, then each build's session (started, warmed up, measured, stopped), in alternating
// order; the best round of each is printed, with its ratio to the best bare round.
// Run with LIVETRACE_REACH_CHECK_MS=0 (the reach check is not what this compares).
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [other, row = 'captured', roundsArg = '15'] = process.argv.slice(2);
if (other === undefined) throw new Error('usage: node bench/async-ab.mjs <other-checkout> [captured|flat|args|guard|dropped] [rounds]');
const require = createRequire(import.meta.url);
const target = require('./fixtures/target.cjs');
const builds = {
  base: await import(pathToFileURL(resolve(other, 'dist/esm/index.js')).href),
  branch: await import('../dist/esm/index.js'),
};
const ROUNDS = Number(roundsArg);
const N = row === 'captured' || row === 'flat' ? 20_000 : 100_000;
const MODULE = 'bench/fixtures/target';
const patterns = { captured: `${MODULE}:addAsync`, flat: `${MODULE}:addAsync`, dropped: `${MODULE}:addAsync`, args: `${MODULE}:addAsync(nil, _)`, guard: `${MODULE}:addAsync(X, _) when X < 0` };
if (patterns[row] === undefined) throw new Error(`unknown row ${row}`);
const options = { max: 1e9, for: '1h', rate: row === 'dropped' ? '1/1h' : false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000, ...(row === 'flat' ? { parents: false } : {}) };
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
};
const AsyncFunction = (async () => {}).constructor;
let loopNumber = 0;
// One loop per measurement kind, compiled afresh (bench/harness.mjs says why).
const loop = () =>
  new AsyncFunction(
    'target',
    'n',
    'drain',
    'now',
    `// ab loop ${++loopNumber}
     let sink = 0;
     const t0 = now();
     for (let i = 0; i < n; i++) { const r = await target.addAsync(i, 1); if (r === -1) sink++; if (drain !== undefined && (i & 1023) === 0) drain(); }
     globalThis.__benchSink = sink;
     return (now() - t0) / n;`,
  );
const loops = { bare: loop(), base: loop(), branch: loop() };
const best = { bare: Infinity, base: Infinity, branch: Infinity };
for (let r = 0; r < ROUNDS; r++) {
  for (const name of r % 2 === 0 ? ['bare', 'base', 'branch'] : ['branch', 'base', 'bare']) {
    // A turn of the event loop first, as bench/harness.mjs measureAsync does.
    await new Promise((resolve) => setImmediate(resolve));
    if (name === 'bare') {
      best.bare = Math.min(best.bare, await loops.bare(target, N, undefined, cpu));
      continue;
    }
    const session = builds[name].trace(patterns[row], options);
    const drain = () => void session.take();
    await loops[name](target, N / 4, drain, cpu);
    best[name] = Math.min(best[name], await loops[name](target, N, drain, cpu));
    const stats = session.stats;
    await session.stop();
    if (stats.internalErrors !== 0) throw new Error(`${name}: ${stats.internalErrors} internal errors`);
  }
}
const ratio = (ns) => `${ns.toFixed(1)} ns (${(ns / best.bare).toFixed(2)}x)`;
console.log(`async ${row} (node ${process.version}, CPU time, best of ${ROUNDS} interleaved rounds): bare ${best.bare.toFixed(1)} ns | base ${ratio(best.base)} | branch ${ratio(best.branch)}`);
