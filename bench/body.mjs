// livetrace's per-call cost under body instrumentation (the engine of `livetrace run -t` and
// LIVETRACE_INSTRUMENT, src/agent/source/instrument-*.ts, patcher/body-site.ts): the traced
// function keeps its own body and identity, and the body asks the tracer on entry. Each
// condition of bench/engine.mjs, beside a bare call of the same text (uninstrumented) in
// the same process, sync and async:
//   npm run build && node bench/body.mjs [--quick] [--json]
//
// The fixture (bench/fixtures/body-target.cjs, target.cjs's text) is compiled (bench/instrumented.mjs) as the
// preload's `_compile` hook compiles a selected module (engines/preload/instrument.ts), and
// registered in require.cache under its own name, so sessions from the library (`trace()`)
// find its functions and hook their bodies. Rows carry ids of their own (`body-*`): they
// are a second engine, not a second measurement of bench/engine.mjs's rows.
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { bodySiteOf } from '../dist/esm/agent/patcher/body-registry.js';
import { measure, measureAsync, report } from './harness.mjs';
import { loadInstrumented } from './instrumented.mjs';

const require = createRequire(import.meta.url);
const bare = require('./fixtures/target.cjs');
const file = require.resolve('./fixtures/body-target.cjs');
const target = loadInstrumented(file);
for (const name of ['add', 'addAsync']) if (bodySiteOf(target[name]) === undefined) throw new Error(`${name} has no body site`);
const original = { add: target.add, addAsync: target.addAsync };

const MODULE = 'bench/fixtures/body-target';
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };
const modes = [
  { mode: 'sync', fn: 'add', call: 'target.add(i, 1)', rows: [], run: (t, call, options) => measure(t, call, options) },
  { mode: 'async', fn: 'addAsync', call: 'target.addAsync(i, 1)', rows: [], run: (t, call, options) => measureAsync(t, call, options) },
];
const CAPTURED = { sync: { iterations: 200_000, rounds: 5, warmup: 20_000 }, async: { iterations: 50_000, rounds: 5, warmup: 5_000 } };
const conditions = [
  { id: 'body-rejected-args', name: 'body: rejected by argument pattern', pattern: (fn) => `${MODULE}:${fn}(nil, _)`, note: (s) => `calls matched: ${s.calls}` },
  { id: 'body-rejected-guard', name: 'body: rejected by pre-guard', pattern: (fn) => `${MODULE}:${fn}(X, _) when X < 0`, note: (s) => `calls matched: ${s.calls}` },
  { id: 'body-dropped', name: 'body: dropped by rate limit', pattern: (fn) => `${MODULE}:${fn}`, options: { rate: '1/1h' }, note: (s) => `dropped: ${s.dropped.rate}` },
  { id: 'body-captured', name: 'body: captured (args, return, timing)', pattern: (fn) => `${MODULE}:${fn}`, size: CAPTURED, note: (s) => `reported: ${s.reported}, queue drops: ${s.dropped.queue}` },
];

// Every row is measured in several passes, bare call first in each, each row keeping its
// best: at a load average of 5 the same async loop measures 1.0-1.6x itself from one
// round to the next, and a pass that the scheduler disturbed must not decide a ratio.
const PASSES = process.argv.includes('--quick') ? 1 : 3;
for (const m of modes) {
  const best = new Map();
  const keep = (id, name, ns, note) => {
    const row = best.get(id);
    if (row === undefined || ns < row.ns) best.set(id, { id, mode: m.mode, name, ns, ...(note ? { note } : {}) });
  };
  for (let pass = 0; pass < PASSES; pass++) {
    keep('bare', 'bare call (the text uninstrumented)', await m.run(bare, m.call));
    keep('body-idle', 'body: instrumented, idle (no session)', await m.run(target, m.call));
    for (const c of conditions) {
      const session = trace(c.pattern(m.fn), { ...UNLIMITED, ...c.options });
      // Hooked on its body, not wrapped: the function is the same object, its body site has hooks.
      if (target[m.fn] !== original[m.fn] || bodySiteOf(target[m.fn]).hooks === null) throw new Error(`${c.name}: the body was not hooked`);
      const ns = await m.run(target, m.call, { ...c.size?.[m.mode], drain: () => void session.take() });
      const stats = session.stats;
      await session.stop();
      if (bodySiteOf(target[m.fn]).hooks !== null) throw new Error(`${c.name}: the body kept hooks after the session stopped`);
      if (stats.internalErrors !== 0) throw new Error(`${c.name}: ${stats.internalErrors} internal errors`);
      keep(c.id, c.name, ns, c.note(stats));
    }
    if (target[m.fn] !== original[m.fn]) throw new Error(`${m.fn} is not the same function after the sessions`);
    keep('body-ended', 'body: after the sessions ended', await m.run(target, m.call));
  }
  m.rows.push(...best.values());
}

report('livetrace body engine, sync function', modes[0].rows);
report('livetrace body engine, async function', modes[1].rows);
