// livetrace's per-call cost in each condition a traced function can be in, beside a bare
// call and a hand-written wrapper measured in the same run, sync and async:
//   npm run build && node bench/engine.mjs [--quick] [--json]
//
// Sessions come from the library (`trace()`), with every limit but the one a row is
// about lifted, and their records taken inside the timed loop (as the agent's socket
// writer takes them between turns). The last rows pin the fixture's exports as the
// preload engine does at load, so they come after every exports-engine row.
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { pinExports } from '../dist/esm/agent/engines/preload/cjs.js';
import { measure, measureAsync, report } from './harness.mjs';

const require = createRequire(import.meta.url);
const target = require('./fixtures/target.cjs');
const original = { add: target.add, addAsync: target.addAsync };
const MODULE = 'bench/fixtures/target';
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };

function handWrapper(fn) {
  return function (...args) {
    return fn.apply(this, args);
  };
}

const modes = [
  { mode: 'sync', fn: 'add', call: 'target.add(i, 1)', rows: [], run: (call, options) => measure(target, call, options) },
  { mode: 'async', fn: 'addAsync', call: 'target.addAsync(i, 1)', rows: [], run: (call, options) => measureAsync(target, call, options) },
];
// Iterations for the rows that report every call (sync, async).
const CAPTURED = { sync: { iterations: 200_000, rounds: 5, warmup: 20_000 }, async: { iterations: 50_000, rounds: 5, warmup: 5_000 } };
const STACKED = { sync: { iterations: 20_000, rounds: 3, warmup: 2_000 }, async: { iterations: 10_000, rounds: 3, warmup: 1_000 } };

/** Rows of every session condition, for `fn` of each mode. */
const conditions = [
  { id: 'lt-rejected-args', name: 'patched, rejected by argument pattern', pattern: (fn) => `${MODULE}:${fn}(nil, _)`, note: (s) => `calls matched: ${s.calls}` },
  { id: 'lt-rejected-guard', name: 'patched, rejected by pre-guard', pattern: (fn) => `${MODULE}:${fn}(X, _) when X < 0`, note: (s) => `calls matched: ${s.calls}` },
  { id: 'lt-dropped', name: 'matched, dropped by rate limit', pattern: (fn) => `${MODULE}:${fn}`, options: { rate: '1/1h' }, note: (s) => `dropped: ${s.dropped.rate}` },
  { id: 'lt-captured', name: 'matched and captured (args, return, timing)', pattern: (fn) => `${MODULE}:${fn}`, size: CAPTURED, note: reportedNote },
  { id: 'lt-captured-flat', name: 'captured, no call-tree context (parents: false)', pattern: (fn) => `${MODULE}:${fn}`, options: { parents: false }, size: CAPTURED, note: reportedNote },
  { id: 'lt-stack', name: 'matched, captured with stack', pattern: (fn) => `${MODULE}:${fn} -> stack`, size: STACKED, note: reportedNote },
];

function reportedNote(stats) {
  return `reported: ${stats.reported}, queue drops: ${stats.dropped.queue}`;
}

for (const m of modes) {
  m.rows.push({ id: 'bare', mode: m.mode, name: 'bare call', ns: await m.run(m.call) });
  target[m.fn] = handWrapper(original[m.fn]);
  m.rows.push({ id: 'hand-wrapper', mode: m.mode, name: 'hand-written wrapper', ns: await m.run(m.call) });
  target[m.fn] = original[m.fn];
  for (const c of conditions) {
    const session = trace(c.pattern(m.fn), { ...UNLIMITED, ...c.options });
    const ns = await m.run(m.call, { ...c.size?.[m.mode], drain: () => void session.take() });
    const stats = session.stats;
    await session.stop();
    if (stats.internalErrors !== 0) throw new Error(`${c.name}: ${stats.internalErrors} internal errors`);
    m.rows.push({ id: c.id, mode: m.mode, name: c.name, ns, note: c.note(stats) });
  }
  if (target[m.fn] !== original[m.fn]) throw new Error(`the original ${m.fn} was not restored`);
  m.rows.push({ id: 'lt-ended', mode: m.mode, name: 'after the sessions ended', ns: await m.run(m.call) });
}

// The preload engine's idle dispatcher: what a destructured caller holds once the
// preload pinned the export at load, with no session running.
const fixtureModule = require.cache[require.resolve('./fixtures/target.cjs')];
if (pinExports(fixtureModule) < 2 || target.add === original.add) throw new Error('the fixture exports were not pinned');
for (const m of modes) {
  m.rows.push({ id: 'lt-preload-idle', mode: m.mode, name: 'preload dispatcher, idle (pinned, no session)', ns: await m.run(m.call) });
}

report('livetrace engine, sync function', modes[0].rows);
report('livetrace engine, async function', modes[1].rows);
