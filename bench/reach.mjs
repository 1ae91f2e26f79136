// What the reach check (src/agent/engines/reach/check.ts) costs the target, in one process:
//   npm run build && node bench/reach.mjs [--quick] [--json]
//
// - an unrelated function (target.add, target.addAsync: no pattern names them) with no
//   session, then under a session whose check is off (LIVETRACE_REACH_CHECK_MS=0), then while a session's reach check is open (its pattern names target.find,
//   which nothing calls, so the check stays open for its whole window with its one
//   breakpoint set and the Debugger on), then after that session;
// - the checked function itself, hot: CALLS calls of target.find in a tight loop right
//   after trace() (its pattern rejects every call), through its wrapper (decided `reached` after 5) and through a
//   reference taken before the trace (decided `bypassed` at the first), against the same
//   loop under a session whose check is off (LIVETRACE_REACH_CHECK_MS=0). The row says
//   the loop's extra time and how many breakpoint conditions ran (the decision, and the
//   calls that hit the breakpoint before its removal was processed).
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { probeEngine } from '../dist/esm/agent/engines/probes/engine.js';
import { conditionCost, countingHits } from '../dist/esm/agent/engines/probes/trampoline.js';
import { measure, measureAsync, report } from './harness.mjs';

const target = createRequire(import.meta.url)('./fixtures/target.cjs');
const MODULE = 'bench/fixtures/target';
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };
const CALLS = process.argv.includes('--quick') ? 10_000 : 100_000;
const opts = { id: 1 };

const unrelated = [
  { mode: 'sync', call: 'target.add(i, 1)', run: (call) => measure(target, call) },
  { mode: 'async', call: 'target.addAsync(i, 1)', run: (call) => measureAsync(target, call) },
];
const rows = [];
for (const u of unrelated) rows.push({ id: `unrelated-${u.mode}-none`, name: `unrelated ${u.mode}, no session`, ns: await u.run(u.call) });
process.env.LIVETRACE_REACH_CHECK_MS = '0';
const unchecked = trace(`${MODULE}:find`, UNLIMITED);
for (const u of unrelated) rows.push({ id: `unrelated-${u.mode}-off`, name: `unrelated ${u.mode}, a session, check off`, ns: await u.run(u.call) });
await unchecked.stop();
process.env.LIVETRACE_REACH_CHECK_MS = '60000';
const idle = trace(`${MODULE}:find`, UNLIMITED);
// The check's worker boots off the program's thread (reach/check.ts): its breakpoint is
// set once it is up. Later sessions find it lingering and set theirs inside trace().
for (const until = Date.now() + 10_000; !probeEngine.active && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 5));
if (!probeEngine.active) throw new Error('the reach check did not start');
for (const u of unrelated) rows.push({ id: `unrelated-${u.mode}-during`, name: `unrelated ${u.mode}, during a reach check`, ns: await u.run(u.call), note: `check open: ${probeEngine.active}` });
// Measured by the engine when it turned the Debugger on (condition.ts calibrateCondition).
rows.push({ id: 'condition', name: 'one breakpoint condition, compiled and run (calibrated)', ns: conditionCost.ns });
await idle.stop();
if (probeEngine.active) throw new Error('the reach check outlived its session');
for (const u of unrelated) rows.push({ id: `unrelated-${u.mode}-after`, name: `unrelated ${u.mode}, after the session`, ns: await u.run(u.call) });

/** CALLS calls of the checked function right after trace(), ms; and the conditions that ran. */
async function hotLoop(windowMs, held) {
  process.env.LIVETRACE_REACH_CHECK_MS = String(windowMs);
  const fn = held ?? ((id, o) => target.find(id, o));
  const hitsBefore = countingHits();
  // A pattern that rejects every call: the loop's time is then mostly the check's.
  const session = trace(`${MODULE}:find(nil, _)`, UNLIMITED);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i++) fn(i, opts);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const hits = countingHits() - hitsBefore;
  await session.stop();
  return { ms, hits };
}
const held = target.find;
const checked = [];
for (const [id, name, h] of [
  ['checked-wrapper', 'through the wrapper', undefined],
  ['checked-around', 'around the wrapper (held reference)', held],
]) {
  let off = Infinity;
  let on = { ms: Infinity, hits: 0 };
  for (let r = 0; r < 5; r++) {
    off = Math.min(off, (await hotLoop(0, h)).ms);
    const m = await hotLoop(10_000, h);
    if (m.ms < on.ms) on = m;
  }
  checked.push({ id: `${id}-off`, name: `checked, ${CALLS} calls ${name}, check off`, ns: (off * 1e6) / CALLS, note: `loop ${off.toFixed(2)} ms` });
  checked.push({ id: `${id}-on`, name: `checked, ${CALLS} calls ${name}, check on`, ns: (on.ms * 1e6) / CALLS, conditions: on.hits, extraMs: on.ms - off, note: `loop ${on.ms.toFixed(2)} ms (+${(on.ms - off).toFixed(2)} ms), ${on.hits} conditions` });
}
report('The reach check: an unrelated function per call, the checked one hot', [...rows, ...checked]);
