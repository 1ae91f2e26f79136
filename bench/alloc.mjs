// Bytes allocated per reported call, by allocating function: a figure that the machine's
// load barely moves (unlike the per-call ns of bench/engine.mjs), for the captured rows'
// garbage (GC was ~10% of their CPU profile).
//   npm run build && node bench/alloc.mjs [--top=N]
//
// V8's sampling allocation profiler (the inspector's HeapProfiler.startSampling), told to
// keep the samples of objects that minor and major collections freed too, so it counts
// what was allocated, not what survived: one sample per 1 KiB on average, scaled by V8 to
// the bytes it stands for. The traced call is the engine benchmark's fixture (add(i, 1),
// awaited addAsync(i, 1)), with the same unlimited session and a take() every 1024 calls;
// a warm-up first, so that the optimizing compiler has settled (escape analysis removes
// objects that do not outlive a call, and only then are the figures the hot path's).
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { trace } from '../dist/esm/index.js';

const require = createRequire(import.meta.url);
const target = require('./fixtures/target.cjs');
const MODULE = 'bench/fixtures/target';
const UNLIMITED = { max: 1e9, for: '1h', rate: false, queueEvents: 1e6, queueBytes: 1e9, overloadMsPerSec: 1000 };
const topArg = process.argv.find((a) => a.startsWith('--top='));
const TOP = topArg === undefined ? 8 : Number(topArg.slice(6));

async function profile(name, fn, loop, warmup, calls) {
  const session = trace(`${MODULE}:${fn}`, UNLIMITED);
  await loop(warmup, () => session.take());
  const inspector = new Session();
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  await loop(calls, () => session.take());
  const { profile } = await inspector.post('HeapProfiler.stopSampling');
  inspector.disconnect();
  const stats = session.stats;
  await session.stop();
  if (stats.internalErrors !== 0 || stats.reported < warmup + calls) throw new Error(`${name}: ${stats.reported} reported, ${stats.internalErrors} internal errors`);
  const nodes = new Map();
  (function walk(node) {
    nodes.set(node.id, node);
    for (const child of node.children) walk(child);
  })(profile.head);
  const bySite = new Map();
  let total = 0;
  for (const sample of profile.samples) {
    const frame = nodes.get(sample.nodeId)?.callFrame;
    if (frame === undefined) continue;
    const site = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
    bySite.set(site, (bySite.get(site) ?? 0) + sample.size);
    total += sample.size;
  }
  console.log(`\n${name}: ${Math.round(total / calls)} bytes allocated per reported call`);
  for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${String(Math.round(bytes / calls)).padStart(6)}  ${site}`);
}

await profile('sync, captured (args, return, timing)', 'add', async (n, take) => {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink += target.add(i, 1);
    if ((i & 1023) === 0) take();
  }
  globalThis.__sink = sink;
}, 300_000, 200_000);
await profile('async, captured (args, return, timing)', 'addAsync', async (n, take) => {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink += await target.addAsync(i, 1);
    if ((i & 1023) === 0) take();
  }
  globalThis.__sink = sink;
}, 100_000, 50_000);
