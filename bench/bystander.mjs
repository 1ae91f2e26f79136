// What a running session costs the rest of the process (issue 18): an async function no
// pattern matches, and a plain `await` loop, measured with no session, while a session
// traces ANOTHER function (never called; called and every call rejected; called and every
// call captured), and after the sessions ended. Both engines: the exports engine (a
// wrapper, as attach does; bench/engine.mjs's sessions) and the body engine (the traced
// function's own body asks the tracer; bench/body.mjs's fixture).
//   npm run build && LT_BENCH_CLOCK=cpu node bench/bystander.mjs [--quick] [--json]
//
// The traced function is called from the loop's `drain` (4 calls every 1024 iterations,
// not awaited, as other requests of a busy service would call it between ours), and the
// session's records are taken there too. The harness lets the event loop turn once before
// each measure, but not inside a round: whatever a traced call leaves on until the next
// check phase (promise-watch.ts takes its hook off there) stays on for the whole round,
// which is the worst case a busy process meets between two turns. The `none in flight` rows
// make their traced calls before the measure instead, with two turns of the event loop
// between: what the process pays between bursts (context.ts switches the call-tree
// context's hooks off after a whole turn without a traced call).
//
// The reach check (exports engine, engines/reach/check.ts) keeps the Debugger on after a
// session starts until each patched function is decided, at most LIVETRACE_REACH_CHECK_MS
// (10 s): every promise step of the process is slower meanwhile, which is its documented
// cost (docs/reach.md). Run with LIVETRACE_REACH_CHECK_MS=0 to see the session alone.
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { bodySiteOf } from '../dist/esm/agent/patcher/body-registry.js';
import { measureAsync, report } from './harness.mjs';
import { loadInstrumented } from './instrumented.mjs';

const require = createRequire(import.meta.url);
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };

// The bystander: compiled from its own text, in no module a pattern names.
const untraced = { addAsync: new Function('return async function untracedAdd(a, b) { return a + b; }')() };

const exportsTarget = require('./fixtures/target.cjs');
const file = require.resolve('./fixtures/body-target.cjs');
const bodyTarget = loadInstrumented(file);
if (bodySiteOf(bodyTarget.addAsync) === undefined) throw new Error('addAsync has no body site');

const engines = [
  { key: '', label: 'exports engine', module: 'bench/fixtures/target', target: exportsTarget },
  { key: 'body-', label: 'body engine', module: 'bench/fixtures/body-target', target: bodyTarget },
];
const conditions = [
  { id: 'none', name: 'no session', calls: true },
  { id: 'idle', name: 'session on another function, never called', pattern: (m) => `${m}:addAsync`, calls: false },
  { id: 'rejected', name: "session on another function, its calls rejected", pattern: (m) => `${m}:addAsync(nil, _)`, calls: true },
  { id: 'captured', name: "session capturing another function's calls", pattern: (m) => `${m}:addAsync`, calls: true },
  { id: 'captured-tree', name: 'the same, session of two functions (async parents)', pattern: (m) => `${m}:{add,addAsync}`, calls: true },
  // Traced calls made and settled before the measure, none during it: the event loop turns
  // in between (the harness's turn), as it does between two bursts of a service's work.
  { id: 'captured-before', name: "session capturing another function's calls, none in flight", pattern: (m) => `${m}:addAsync`, calls: false, before: true },
  { id: 'captured-tree-before', name: 'the same, session of two functions, none in flight', pattern: (m) => `${m}:{add,addAsync}`, calls: false, before: true },
  { id: 'ended', name: 'after the sessions ended', calls: true },
];
const loops = [
  { key: '', what: 'an untraced async call', call: 'target.addAsync(i, 1)' },
  { key: 'await-', what: 'a plain await', call: 'i' },
];

// Several passes, each row keeping its best (as bench/body.mjs: one disturbed pass must
// not decide a ratio).
const PASSES = process.argv.includes('--quick') ? 1 : 3;
// Both loops once before any row: the first measure of a process otherwise pays for
// settling the compiler (an await loop read 118 ns first, 70 ns in every later row).
for (const l of loops) await measureAsync(untraced, l.call);
for (const e of engines) {
  const best = new Map();
  for (let pass = 0; pass < PASSES; pass++) {
    for (const c of conditions) {
      const session = c.pattern === undefined ? undefined : trace(c.pattern(e.module), UNLIMITED);
      const traced = e.target.addAsync;
      const drain = () => {
        if (c.calls) for (let k = 0; k < 4; k++) traced(k, 1);
        session?.take();
      };
      for (const l of loops) {
        const id = `bystander-${e.key}${l.key}${c.id}`;
        if (c.before) {
          for (let k = 0; k < 4; k++) await traced(k, 1);
          // A turn of the event loop with no traced call (the harness adds one more).
          await new Promise((resolve) => setImmediate(resolve));
        }
        const ns = await measureAsync(untraced, l.call, { drain });
        const row = best.get(id);
        if (row === undefined || ns < row.ns) best.set(id, { id, mode: 'async', loop: l.key, name: c.name, ns });
      }
      if (session !== undefined) {
        const stats = session.stats;
        await session.stop();
        if (stats.internalErrors !== 0) throw new Error(`${e.label}, ${c.name}: ${stats.internalErrors} internal errors`);
        const row = best.get(`bystander-${e.key}${c.id}`);
        row.note = `traced calls reported: ${stats.reported}`;
      }
    }
  }
  for (const l of loops) {
    const rows = [...best.values()].filter((r) => r.loop === l.key).map(({ loop, ...r }) => r);
    report(`livetrace ${e.label}: ${l.what} while a session traces another function`, rows);
  }
}
