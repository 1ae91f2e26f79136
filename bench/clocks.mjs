// One monotonic clock reading, each way Node offers one in-process, in a tight loop
// (CPU time, 2 x 10^6 readings, three passes): what src/agent/clock.ts chose from.
//   node bench/clocks.mjs
import { performance } from 'node:perf_hooks';

const now = performance.now.bind(performance);
const hrtime = process.hrtime;
const bigint = process.hrtime.bigint;
const ways = {
  'performance.now() (bound)': () => now() * 1e6,
  'performance.now()': () => performance.now() * 1e6,
  'process.hrtime()': () => {
    const t = hrtime();
    return t[0] * 1e9 + t[1];
  },
  'process.hrtime.bigint()': () => Number(bigint()),
  'Date.now()': () => Date.now() * 1e6,
};
const cpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) * 1000;
};
const N = 2e6;
console.log(`node ${process.version}, ns per reading (CPU time), three passes`);
const best = {};
for (let pass = 0; pass < 3; pass++) {
  for (const [name, read] of Object.entries(ways)) {
    // A fresh loop per way and pass: no shared call-site feedback (see harness.mjs).
    const loop = new Function('read', 'n', `// ${name} ${pass}\n let s = 0; for (let i = 0; i < n; i++) s += read(); return s;`);
    loop(read, N);
    const t0 = cpu();
    loop(read, N);
    const ns = (cpu() - t0) / N;
    best[name] = Math.min(best[name] ?? Infinity, ns);
  }
}
for (const [name, ns] of Object.entries(best)) console.log(`  ${name.padEnd(28)} ${ns.toFixed(1).padStart(7)} ns`);
