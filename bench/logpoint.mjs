// The production debuggers' mechanism, measured on the same function and call site as
// bench/engine.mjs and bench/peers.mjs: a worker thread opens an inspector session on the
// main thread (`connectToMainThread`), enables the Debugger and sets a conditional
// breakpoint at the first statement of the function, whose condition records the
// arguments into a global buffer and returns false (a logpoint: the program never stops).
//   npm run build && node bench/logpoint.mjs [--quick] [--json]
//
// It runs in a process of its own: once the Debugger is enabled, every async call in the
// process costs more, and removing the breakpoint does not give all of it back.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { measure, measureAsync, report } from './harness.mjs';

const require = createRequire(import.meta.url);
const fixture = fileURLToPath(new URL('./fixtures/target.cjs', import.meta.url));
const target = require(fixture);
const syncCall = 'target.add(i, 1)';
const asyncCall = 'target.addAsync(i, 1)';

/** 0-based line of the first statement of `function <name>(` in the fixture. */
function bodyLine(name) {
  const lines = readFileSync(fixture, 'utf8').split('\n');
  const header = lines.findIndex((line) => new RegExp(`function ${name}\\(`).test(line));
  if (header < 0) throw new Error(`no function ${name} in ${fixture}`);
  return header + 1;
}

// The worker side: one inspector session, requests from the main thread by message.
const workerSource = `
const { parentPort } = require('node:worker_threads');
const { Session } = require('node:inspector');
const session = new Session();
session.connectToMainThread();
const post = (method, params) => new Promise((resolve, reject) =>
  session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
parentPort.on('message', async ({ method, params }) => {
  try {
    parentPort.postMessage({ result: await post(method, params) });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});
`;
const worker = new Worker(workerSource, { eval: true });
function inspect(method, params = {}) {
  return new Promise((resolve, reject) => {
    worker.once('message', ({ result, error }) => (error === undefined ? resolve(result) : reject(new Error(`${method}: ${error}`))));
    worker.postMessage({ method, params });
  });
}

// The buffer the condition writes to: a ring, so memory stays flat however many hits.
globalThis.__logpoint = { calls: 0, ring: new Array(1024) };
const condition = '(globalThis.__logpoint.ring[globalThis.__logpoint.calls++ & 1023] = [a, b], false)';
const urlRegex = `${fixture.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;

const sync = [];
const asyncRows = [];
const row = (rows, id, mode, name, ns, note) => rows.push({ id, mode, name, ns, ...(note ? { note } : {}) });

row(sync, 'bare', 'sync', 'bare call', measure(target, syncCall));
row(asyncRows, 'bare', 'async', 'bare call', await measureAsync(target, asyncCall));

await inspect('Debugger.enable');
row(sync, 'debugger-enabled', 'sync', 'Debugger enabled, no breakpoint', measure(target, syncCall));
row(asyncRows, 'debugger-enabled', 'async', 'Debugger enabled, no breakpoint', await measureAsync(target, asyncCall));

async function logpoint(rows, mode, name, call, run) {
  const { breakpointId, locations } = await inspect('Debugger.setBreakpointByUrl', { urlRegex, lineNumber: bodyLine(name), condition });
  if (locations.length !== 1) throw new Error(`the logpoint on ${name} resolved to ${locations.length} locations`);
  const before = globalThis.__logpoint.calls;
  const ns = await run(call);
  const hits = globalThis.__logpoint.calls - before;
  await inspect('Debugger.removeBreakpoint', { breakpointId });
  if (hits === 0) throw new Error(`the logpoint on ${name} never ran`);
  row(rows, 'logpoint', mode, 'inspector logpoint (worker session, conditional breakpoint)', ns, `arguments recorded: ${hits}`);
}

// A hit costs about a hundred microseconds: few iterations.
await logpoint(sync, 'sync', 'add', syncCall, (call) => measure(target, call, { iterations: 5_000, rounds: 3, warmup: 500 }));
await logpoint(asyncRows, 'async', 'addAsync', asyncCall, (call) => measureAsync(target, call, { iterations: 5_000, rounds: 3, warmup: 500 }));

await inspect('Debugger.disable');
row(sync, 'debugger-after', 'sync', 'after Debugger.disable', measure(target, syncCall));
row(asyncRows, 'debugger-after', 'async', 'after Debugger.disable', await measureAsync(target, asyncCall));
await worker.terminate();

report('inspector logpoint, sync function', sync);
report('inspector logpoint, async function', asyncRows);
