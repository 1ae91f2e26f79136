// Capture cost per call, beside JSON.stringify and util.inspect of the same values in the
// same run. Run after `npm run build`:  node bench/capture.mjs [--quick]
//
// Each case is timed in its own loop (so each stays monomorphic, as a call site in a
// traced function would be), in several rounds; the median round is printed.
import { inspect } from 'node:util';
import { Capturer } from '../dist/esm/agent/capture/capturer.js';
import { captureStack } from '../dist/esm/agent/capture/stack.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const TARGET_MS = quick ? 40 : 150;

let sink = 0;

/** Iterations of `fn` that take about TARGET_MS. */
function calibrate(fn) {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn(i);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > TARGET_MS / 4) return Math.max(1000, Math.round((n * TARGET_MS) / ms));
    n *= 4;
  }
}

function round(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink ^= fn(i);
  return Number(process.hrtime.bigint() - t0) / n;
}

/**
 * Median ns/op of each function. Rounds of the contenders are interleaved, so a burst of
 * load from elsewhere on the machine hits all of them alike and the ratios stay fair.
 */
function compare(fns) {
  const counts = fns.map(calibrate);
  const samples = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) fns.forEach((fn, k) => samples[k].push(round(fn, counts[k])));
  return samples.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
}

class User {
  constructor(id) {
    this.id = id;
    this.name = 'Ada Lovelace';
    this.roles = ['admin', 'ops'];
  }
}

const big = 'x'.repeat(10 * 1024 * 1024);
const bigBuffer = Buffer.alloc(10 * 1024 * 1024, 7);

const cases = [
  ['two small args (number, {id, name})', (i) => [i, { id: 1, name: 'x' }]],
  ['one class instance (this)', () => [new User(1)]],
  ['string arg (40 chars)', () => ['a moderately long argument string, 40 ch']],
  ['array of 10 numbers', () => [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]],
  ['nested object (depth 3, 3x3)', () => [{ a: { b: { c: 1, d: 2, e: 3 }, f: 4, g: 5 }, h: [1, 2, 3], i: 'x' }]],
  ['10 MB string', () => [big]],
  ['10 MB Buffer', () => [bigBuffer]],
];

const capturer = new Capturer();
const inspectOptions = { depth: 3, maxArrayLength: 100, maxStringLength: 255, breakLength: Infinity };
const rows = [];
for (const [name, make] of cases) {
  const huge = name.startsWith('10 MB');
  const captureFn = (i) => {
    capturer.begin();
    const value = capturer.values(make(i));
    return value.length + (capturer.end().truncated ? 1 : 0);
  };
  // JSON of 10 MB is not a comparison anyone would make per call.
  const jsonFn = huge ? null : (i) => JSON.stringify(make(i)).length;
  const inspectFn = (i) => inspect(make(i), inspectOptions).length;
  const allocFn = (i) => make(i).length;
  const fns = [captureFn, inspectFn, allocFn];
  if (jsonFn !== null) fns.push(jsonFn);
  const [captureNs, inspectNs, allocNs, jsonNs = NaN] = compare(fns);
  rows.push({ name, captureNs: captureNs - allocNs, jsonNs: jsonNs - allocNs, inspectNs: inspectNs - allocNs, allocNs });
}

const fmt = (ns) => (Number.isNaN(ns) ? '—' : ns.toFixed(0).padStart(8));
const ratio = (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? '—' : `${(a / b).toFixed(2)}x`);
console.log(`node ${process.version}, ${ROUNDS} rounds, median; ns/op with the cost of building the args (alloc) subtracted`);
console.log(
  `${'case'.padEnd(38)} ${'capture'.padStart(8)} ${'JSON'.padStart(8)} ${'inspect'.padStart(8)} ${'alloc'.padStart(6)}  capture/JSON  capture/inspect`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(38)} ${fmt(r.captureNs)} ${fmt(r.jsonNs)} ${fmt(r.inspectNs)} ${r.allocNs.toFixed(0).padStart(6)}  ${ratio(r.captureNs, r.jsonNs).padStart(12)}  ${ratio(r.captureNs, r.inspectNs).padStart(15)}`,
  );
}

// The `stack` action: structured, source-mapped frames, beside V8's own string stack.
const atDepth = (n, fn) => (n === 0 ? fn() : atDepth(n - 1, fn));
const [stackNs, errorStackNs] = compare([
  () => atDepth(10, () => captureStack().length),
  () => atDepth(10, () => new Error().stack.length),
]);
console.log(`\ncaptureStack() 10 frames deep: ${stackNs.toFixed(0)} ns; new Error().stack: ${errorStackNs.toFixed(0)} ns (${ratio(stackNs, errorStackNs)})`);
if (sink === 0.5) console.log(sink);
