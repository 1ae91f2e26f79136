// The exports engine's per-call cost, beside a bare call and a hand-written wrapper
// measured in the same run: `npm run build && node bench/engine.mjs [--json]`.
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';
import { measure, measureAsync, report } from './harness.mjs';

const target = createRequire(import.meta.url)('./fixtures/target.cjs');
const original = target.add;
const MODULE = 'bench/fixtures/target';

function handWrapper(fn) {
  return function (...args) {
    return fn.apply(this, args);
  };
}

const syncCall = 'target.add(i, 1)';
const rows = [];
rows.push({ name: 'bare call', ns: measure(target, syncCall) });
target.add = handWrapper(original);
rows.push({ name: 'hand-written wrapper', ns: measure(target, syncCall) });
target.add = original;

async function withSession(pattern, options, name, note, run = (drain) => measure(target, syncCall, { drain })) {
  const session = trace(pattern, { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000, ...options });
  const ns = await run(() => void session.take());
  const stats = session.stats;
  await session.stop();
  rows.push({ name, ns, note: note(stats) });
}

await withSession(`${MODULE}:add(nil, _)`, {}, 'patched, rejected by argument pattern', (s) => `calls matched: ${s.calls}`);
await withSession(`${MODULE}:find(nil, {id: X}) when X > 3`, {}, 'patched, rejected by pre-guard (find)', (s) => `calls matched: ${s.calls}`, (drain) =>
  measure(target, 'target.find(i, { id: 2 })', { drain }));
await withSession(`${MODULE}:add`, { rate: '1/1h' }, 'matched, dropped by rate limit', (s) => `dropped: ${s.dropped.rate}`);
await withSession(`${MODULE}:add`, {}, 'matched and captured', (s) => `reported: ${s.reported}, queue drops: ${s.dropped.queue}`, (drain) =>
  measure(target, syncCall, { iterations: 200_000, rounds: 5, warmup: 20_000, drain }));
await withSession(`${MODULE}:add -> stack`, {}, 'matched, captured with stack', (s) => `reported: ${s.reported}`, (drain) =>
  measure(target, syncCall, { iterations: 50_000, rounds: 3, warmup: 5_000, drain }));
await withSession(`${MODULE}:add`, { parents: false }, 'captured, no call-tree context', (s) => `reported: ${s.reported}`, (drain) =>
  measure(target, syncCall, { iterations: 200_000, rounds: 5, warmup: 20_000, drain }));
if (target.add !== original) throw new Error('the original was not restored');
rows.push({ name: 'after the sessions ended', ns: measure(target, syncCall) });
report('exports engine, sync function', rows);

const asyncRows = [];
const asyncCall = 'target.addAsync(i, 1)';
asyncRows.push({ name: 'bare async call', ns: await measureAsync(target, asyncCall) });
const originalAsync = target.addAsync;
target.addAsync = handWrapper(originalAsync);
asyncRows.push({ name: 'hand-written wrapper', ns: await measureAsync(target, asyncCall) });
target.addAsync = originalAsync;
for (const [pattern, options, name] of [
  [`${MODULE}:addAsync(nil, _)`, {}, 'patched, rejected by argument pattern'],
  [`${MODULE}:addAsync`, { rate: '1/1h' }, 'matched, dropped by rate limit'],
  [`${MODULE}:addAsync`, {}, 'matched and captured (settle watched)'],
]) {
  const session = trace(pattern, { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000, ...options });
  const drain = setInterval(() => session.take(), 5);
  const ns = await measureAsync(target, asyncCall, { iterations: 50_000, rounds: 3, warmup: 5_000 });
  clearInterval(drain);
  await session.stop();
  asyncRows.push({ name, ns });
}
asyncRows.push({ name: 'after the sessions ended', ns: await measureAsync(target, asyncCall) });
report('exports engine, async function', asyncRows);
