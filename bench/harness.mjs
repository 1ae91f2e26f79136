// Shared timing loop for the benchmarks: warm up, then take the best of several rounds
// (the machine is noisy; the minimum is the least disturbed estimate of the cost).
export function measure(fn, { iterations = 2_000_000, rounds = 7, warmup = 200_000 } = {}) {
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += fn(i) ? 1 : 0;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += fn(i) ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    if (ns < best) best = ns;
  }
  globalThis.__benchSink = sink;
  return best;
}

export async function measureAsync(fn, { iterations = 200_000, rounds = 5, warmup = 20_000 } = {}) {
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += (await fn(i)) ? 1 : 0;
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink += (await fn(i)) ? 1 : 0;
    const ns = Number(process.hrtime.bigint() - t0) / iterations;
    if (ns < best) best = ns;
  }
  globalThis.__benchSink = sink;
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
