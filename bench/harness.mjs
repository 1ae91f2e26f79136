// Shared timing loops for the benchmarks: warm up, then take the best of several rounds
// (the machine is noisy; the minimum is the least disturbed estimate of the cost).
//
// Every measurement gets its own freshly compiled loop and call site (new Function), so
// V8's type feedback from one row (a wrapper, a different function identity) cannot
// turn the next row's call site megamorphic and make it look slower than it is. Each
// loop's source is made unique (a numbered comment): V8's eval cache hands out one
// SharedFunctionInfo for a source text it has compiled before (from the third
// `new Function` of the same text here, checked with %DebugPrint), so loops of the same
// text shared their feedback and code, and every row measured a call site polluted by
// the rows before it (a bare call read 5-11 ns after a wrapper row, 1.6-3 ns alone).

/** `call` is the body of an arrow `(i) => ...` with `target` in scope, e.g. 'target.add(i, 1)'. */
// `drain`, when given, runs every 1024 calls inside the timed loop (a consumer taking
// records, as the agent's socket writer does between turns).
//
// `--quick` on the command line (a smoke run: are the numbers finite, does every row run)
// divides the iterations by 10 and takes at most 2 rounds (the warm-up stays whole, so the
// optimizing compiler still settles); the figures are then rough.
//
// LT_BENCH_CLOCK=cpu times the rounds in the process's CPU time (process.cpuUsage, user +
// system, µs resolution) instead of the monotonic wall clock: on a machine shared with
// other work, a wall-clock round also holds the time the process waited for a core (at
// load average 20 on 2 cores, most of it), a CPU-time round does not. It still counts
// V8's helper threads (GC) and suffers the other work's cache and memory contention.
let loopNumber = 0;
const QUICK = process.argv.includes('--quick');
export const CLOCK = process.env.LT_BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';
globalThis.__benchNow =
  CLOCK === 'cpu'
    ? () => {
        const usage = process.cpuUsage();
        return (usage.user + usage.system) * 1000;
      }
    : () => Number(process.hrtime.bigint());

function scaled(iterations, rounds, warmup) {
  return QUICK ? [Math.ceil(iterations / 10), Math.min(rounds, 2), warmup] : [iterations, rounds, warmup];
}

export function measure(target, call, options = {}) {
  const { drain } = options;
  const [iterations, rounds, warmup] = scaled(options.iterations ?? 2_000_000, options.rounds ?? 7, options.warmup ?? 200_000);
  const loop = new Function(
    'target',
    'iterations',
    'drain',
    `// loop ${++loopNumber}
     let sink = 0;
     const now = globalThis.__benchNow;
     const t0 = now();
     for (let i = 0; i < iterations; i++) { const r = ${call}; if (r === -1) sink++; if (drain !== undefined && (i & 1023) === 0) drain(); }
     const ns = (now() - t0) / iterations;
     globalThis.__benchSink = sink;
     return ns;`,
  );
  loop(target, warmup, drain);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) best = Math.min(best, loop(target, iterations, drain));
  return best;
}

// An awaited call that settles at once never yields to timers, so a consumer on an
// interval would never run during a round: `drain` runs inside the loop here too.
export async function measureAsync(target, call, options = {}) {
  const { drain } = options;
  const [iterations, rounds, warmup] = scaled(options.iterations ?? 200_000, options.rounds ?? 5, options.warmup ?? 20_000);
  const AsyncFunction = (async () => {}).constructor;
  const loop = new AsyncFunction(
    'target',
    'iterations',
    'drain',
    `// loop ${++loopNumber}
     let sink = 0;
     const now = globalThis.__benchNow;
     const t0 = now();
     for (let i = 0; i < iterations; i++) { const r = await ${call}; if (r === -1) sink++; if (drain !== undefined && (i & 1023) === 0) drain(); }
     const ns = (now() - t0) / iterations;
     globalThis.__benchSink = sink;
     return ns;`,
  );
  // A turn of the event loop first, as a program gets between any two bursts of calls:
  // the loop below never leaves the microtask queue, so state that livetrace drops at the
  // next check phase (the promise hook outlives the last watched promise until then,
  // promise-watch.ts) would otherwise be measured as if the program never got there.
  await new Promise((resolve) => setImmediate(resolve));
  await loop(target, warmup, drain);
  let best = Infinity;
  for (let r = 0; r < rounds; r++) best = Math.min(best, await loop(target, iterations, drain));
  return best;
}

/** Prints rows of { name, ns } with ratios to the first row (the baseline). */
export function report(title, rows, { json = process.argv.includes('--json') } = {}) {
  const base = rows[0].ns;
  if (json) {
    console.log(JSON.stringify({ title, node: process.version, rows: rows.map((r) => ({ ...r, ratio: r.ns / base })) }));
    return;
  }
  console.log(`\n${title} (node ${process.version}, ns per call, best of rounds)`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(width)}  ${r.ns.toFixed(1).padStart(9)} ns  ${(r.ns / base).toFixed(2).padStart(7)}x${r.note ? `  ${r.note}` : ''}`);
  }
}
