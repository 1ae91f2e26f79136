// What a compiled matcher costs to reject a call, beside a bare call measured in the
// same run. Run after `npm run build`:  node bench/matcher.mjs [millions of iterations per round]
//
// Each case runs the same loop shape (pick one of four prepared argument lists, call,
// fold the result into an accumulator), warmed up first, then timed over several rounds;
// the figure is the median round's nanoseconds per iteration. The machine is noisy:
// differences under about 15% are noise.
import { compilePattern } from '../dist/esm/pattern/index.js';

const iterations = Math.max(1, Number(process.argv[2] ?? 20)) * 1e6;
const rounds = 7;

const matcher = compilePattern('m:f(nil, {id: X}) when X > 3');

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// Four argument lists per case so the loop cannot be folded into a constant.
function argumentLists(make) {
  return [make(0), make(1), make(2), make(3)];
}

function bare(a, b) {
  return a === b ? undefined : b;
}

// One loop function per case, written out, so that each call site sees one target (as
// a dispatch wrapper does) instead of every case's.
const cases = [
  {
    name: 'loop only (pick the arguments, no call)',
    lists: argumentLists((i) => [i, { id: i }]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) if (lists[i & 3].length === 0) sink++;
      return sink;
    },
  },
  {
    name: 'bare call (baseline)',
    lists: argumentLists((i) => [i, { id: i }]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) {
        const args = lists[i & 3];
        if (bare(args[0], args[1]) === undefined) sink++;
      }
      return sink;
    },
  },
  {
    name: 'pre() rejects: first argument not nil',
    lists: argumentLists((i) => [i + 1, { id: 2 }]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) if (matcher.pre(undefined, lists[i & 3]) === undefined) sink++;
      return sink;
    },
  },
  {
    name: 'pre() rejects: nil, but X <= 3',
    lists: argumentLists((i) => [i % 2 === 0 ? null : undefined, { id: i % 4 }]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) if (matcher.pre(undefined, lists[i & 3]) === undefined) sink++;
      return sink;
    },
  },
  {
    name: 'pre() rejects: wrong argument count',
    lists: argumentLists((i) => [null, { id: 5 }, i]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) if (matcher.pre(undefined, lists[i & 3]) === undefined) sink++;
      return sink;
    },
  },
  {
    name: 'pre() matches: nil, X > 3',
    lists: argumentLists((i) => [null, { id: 4 + i }]),
    loop(lists, count) {
      let sink = 0;
      for (let i = 0; i < count; i++) if (matcher.pre(undefined, lists[i & 3]) === undefined) sink++;
      return sink;
    },
  },
];

/**
 * Times `loop` by wall clock and by this process's CPU time. On a shared machine the wall
 * clock also counts the time other processes held the CPU; the CPU time does not, so the
 * ratios use it.
 */
function measure({ loop, lists }) {
  loop(lists, Math.min(iterations, 2e6)); // warm-up: let the optimizing compiler settle
  const wall = [];
  const cpu = [];
  let sink = 0;
  for (let round = 0; round < rounds; round++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    sink += loop(lists, iterations);
    wall.push(Number(process.hrtime.bigint() - start) / iterations);
    const used = process.cpuUsage(cpuStart);
    cpu.push(((used.user + used.system) * 1000) / iterations);
  }
  return { wall: median(wall), cpu: median(cpu), sink };
}

console.log(`node ${process.version}, ${iterations / 1e6}M iterations x ${rounds} rounds per case (median round)`);
console.log(`pattern: ${matcher.normalized}`);
// Ratios are against the bare call; "net" subtracts the loop's own cost (first row).
let loopOnly;
let baseline;
console.log(`${'case'.padEnd(42)} ${'wall ns'.padStart(8)} ${'cpu ns'.padStart(8)} ${'net ns'.padStart(7)}  cpu vs bare`);
for (const testCase of cases) {
  const { wall, cpu } = measure(testCase);
  if (loopOnly === undefined) {
    loopOnly = cpu;
    console.log(`${testCase.name.padEnd(42)} ${wall.toFixed(2).padStart(8)} ${cpu.toFixed(2).padStart(8)}`);
    continue;
  }
  baseline ??= cpu;
  const net = (cpu - loopOnly).toFixed(2).padStart(7);
  console.log(`${testCase.name.padEnd(42)} ${wall.toFixed(2).padStart(8)} ${cpu.toFixed(2).padStart(8)} ${net}  ${(cpu / baseline).toFixed(2).padStart(6)}x`);
}
console.log(`guard errors: ${matcher.guardErrors}`);
