// Capture cost per call, beside JSON.stringify and util.inspect of the same values in the
// same run. Run after `npm run build`:  node bench/capture.mjs [--quick]
//
// Each case is timed in its own loop (so each stays monomorphic, as a call site in a
// traced function would be), in several rounds; the median round is printed.
import { inspect } from 'node:util';
import { Capturer } from '../dist/esm/agent/capture.js';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;
const TARGET_MS = quick ? 40 : 150;

let sink = 0;

function measure(fn) {
  // Calibrate the iteration count to roughly TARGET_MS per round.
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn(i);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > TARGET_MS / 4) {
      n = Math.max(1000, Math.round((n * TARGET_MS) / ms));
      break;
    }
    n *= 4;
  }
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink ^= fn(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  rounds.sort((a, b) => a - b);
  return rounds[Math.floor(rounds.length / 2)];
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
const rows = [];
for (const [name, make] of cases) {
  const fixed = make(0);
  const captureNs = measure((i) => {
    const args = i === -1 ? fixed : make(i);
    capturer.begin();
    const value = capturer.values(args);
    const { truncated } = capturer.end();
    return value.length + (truncated ? 1 : 0);
  });
  const jsonNs = name.startsWith('10 MB')
    ? NaN // JSON of 10 MB is not a comparison anyone would make per call
    : measure((i) => JSON.stringify(i === -1 ? fixed : make(i)).length);
  const inspectNs = name.startsWith('10 MB')
    ? measure(() => inspect(fixed, { depth: 3, maxArrayLength: 100, maxStringLength: 255, breakLength: Infinity }).length)
    : measure((i) => inspect(make(i), { depth: 3, maxArrayLength: 100, maxStringLength: 255, breakLength: Infinity }).length);
  const allocNs = measure((i) => make(i).length);
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
if (sink === 0.5) console.log(sink);
