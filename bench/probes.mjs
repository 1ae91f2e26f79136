// The probe engine's per-call cost (inspector breakpoints decided in their condition, for
// functions no wrapper reaches), on the same function and call site as bench/engine.mjs:
//   npm run build && node bench/probes.mjs [--quick] [--json]
//
// - sampled: every call hits the probe and is reported (the hit budget set out of reach);
//   a reported synchronous call pauses at its return so the worker can read the value;
//   over the pause budget (1 a second here) it is reported without its value, no pause;
// - rejected: the probe's condition runs, the pattern rejects the call;
// - not sampled: the probe is over its hit budget (1 hit a second here), so its
//   breakpoints are away for the rest of the second and calls run with the Debugger on;
// - after the session ended: the Debugger is off again;
// - and, for scale, the exports engine's wrapper on the same function in the same run:
//   its pattern rejecting the call, and the call captured and reported.
// A process of its own: the Debugger changes the cost of every async call while it is on.
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { budget } from '../dist/esm/agent/engines/probes/hit-budget.js';
import { measure, measureAsync, report } from './harness.mjs';

const target = createRequire(import.meta.url)('./fixtures/target.cjs');
const MODULE = 'bench/fixtures/target';
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };

const modes = [
  { mode: 'sync', fn: 'add', call: 'target.add(i, 1)', rows: [], run: (call, options) => measure(target, call, options) },
  { mode: 'async', fn: 'addAsync', call: 'target.addAsync(i, 1)', rows: [], run: (call, options) => measureAsync(target, call, options) },
];
// Every call that reaches a breakpoint condition costs hundreds of microseconds (a
// reported synchronous one also pauses and waits for the worker): few iterations.
const HIT = { iterations: 500, rounds: 3, warmup: 50 };
const AWAY = { iterations: 100_000, rounds: 5, warmup: 10_000 };
const WRAPPED = { iterations: 200_000, rounds: 5, warmup: 20_000 };

const conditions = [
  { id: 'lt-wrapper-rejected', name: 'exports wrapper, pattern rejects the call', engine: 'exports', pattern: (fn) => `${MODULE}:${fn}(nil, _)`, hits: 0, size: WRAPPED },
  { id: 'lt-wrapper-captured', name: 'exports wrapper, call captured and reported', engine: 'exports', pattern: (fn) => `${MODULE}:${fn}`, hits: 0, size: WRAPPED },
  { id: 'lt-probe', name: 'probe, sampled: hit and reported', engine: 'probe', pattern: (fn) => `${MODULE}:~${fn}`, hits: 1e9, size: HIT },
  { id: 'lt-probe-no-pause', name: 'probe, reported over the pause budget (no value)', engine: 'probe', pattern: (fn) => `${MODULE}:~${fn}`, hits: 1e9, pauses: 1, size: HIT },
  { id: 'lt-probe-rejected', name: 'probe, condition rejects (argument pattern)', engine: 'probe', pattern: (fn) => `${MODULE}:~${fn}(nil, _)`, hits: 1e9, size: HIT },
  { id: 'lt-probe-unsampled', name: 'probe, not sampled (over its hit budget)', engine: 'probe', pattern: (fn) => `${MODULE}:~${fn}`, hits: 1, size: AWAY },
];

for (const m of modes) {
  m.rows.push({ id: 'bare', mode: m.mode, name: 'bare call', ns: await m.run(m.call) });
  for (const c of conditions) {
    budget.hitsPerSecond = c.hits;
    budget.pausesPerSecond = c.pauses ?? 0;
    const session = trace(c.pattern(m.fn), UNLIMITED);
    if (session.matched[0]?.engine !== c.engine) throw new Error(`${c.name}: not traced by ${c.engine} (${JSON.stringify(session.matched)})`);
    const ns = await m.run(m.call, { ...c.size, drain: () => void session.take() });
    const stats = session.stats;
    await session.stop();
    if (stats.internalErrors !== 0) throw new Error(`${c.name}: ${stats.internalErrors} internal errors`);
    m.rows.push({ id: c.id, mode: m.mode, name: c.name, ns, note: `calls matched: ${stats.calls}, reported: ${stats.reported}` });
  }
  m.rows.push({ id: 'lt-probe-ended', mode: m.mode, name: 'after the probe sessions ended', ns: await m.run(m.call) });
}

report('probe engine, sync function', modes[0].rows);
report('probe engine, async function', modes[1].rows);
