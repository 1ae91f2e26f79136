// A bounded HTTP load loop for bench/system.mjs, run as a process of its own so the
// service under test and the load do not share an event loop:
//   node bench/load.mjs <base url> <concurrency> <seconds> <path>[,<path>...]
// Keeps <concurrency> requests in flight on a keep-alive agent for <seconds>, cycling
// through the paths, then prints one JSON line: requests, errors, requests per second,
// and the latency quantiles in ms (every request's latency is kept; a 10 s run is a few
// tens of thousands of numbers).
import { Agent, request } from 'node:http';

const [base, concurrencyArg, secondsArg, pathsArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
const seconds = Number(secondsArg);
const paths = (pathsArg ?? '/').split(',');
if (!base || !(concurrency >= 1) || !(seconds > 0)) {
  console.error('usage: node bench/load.mjs <base url> <concurrency> <seconds> <path>[,<path>...]');
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const latencies = [];
let errors = 0;
let next = 0;
const deadline = performance.now() + seconds * 1000;

function once(path) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const req = request(new URL(path, base), { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        else latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function worker() {
  while (performance.now() < deadline) await once(paths[next++ % paths.length]);
}

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - started) / 1000;
agent.destroy();
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
console.log(
  JSON.stringify({
    requests: latencies.length,
    errors,
    rps: latencies.length / elapsed,
    p50Ms: quantile(0.5),
    p90Ms: quantile(0.9),
    p99Ms: quantile(0.99),
    maxMs: latencies.at(-1) ?? NaN,
  }),
);
