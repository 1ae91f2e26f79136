// The floor under the exports engine's async rows (rejected, pre-guard, dropped): what a
// stand-in for an async function costs per awaited call before livetrace does anything,
// and what each stand-in lets the program see. No livetrace code runs here.
//   node bench/proxy-floor.mjs [--rounds=N]        (LT_BENCH_CLOCK=cpu for CPU time)
//
// The exports engine wraps an async function in a Proxy (patcher/wrapper-proxy.ts) because
// nothing else keeps `util.inspect` (and so `console.log`) printing `[AsyncFunction: f]`:
// inspect looks through a Proxy to its target, and asks V8 the *function's own kind*, which
// only a real async function has. A real async function as the wrapper would return its
// own promise, not the original's (identity), and add ticks. So the rows below are the
// candidates, bare and each stand-in interleaved round by round in one process, each with
// its own freshly compiled loop (a shared call site would see every variant).
import { inspect, types } from 'node:util';
import { CLOCK } from './harness.mjs';

const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
const ROUNDS = roundsArg === undefined ? 25 : Number(roundsArg.slice(9));
const ITERATIONS = 200_000;
const now = globalThis.__benchNow;

async function addAsync(a, b) {
  return a + b;
}
const AsyncFunction = addAsync.constructor;
const direct = Function.prototype.call.bind(addAsync);
/** A method (no `prototype`, not constructible, as an async function), named as the original. */
function plainWrapper(proto) {
  const wrapper = {
    addAsync(a, b) {
      return addAsync(a, b);
    },
  }.addAsync;
  if (proto !== undefined) Object.setPrototypeOf(wrapper, proto);
  return wrapper;
}

const variants = [
  ['bare call', addAsync],
  ['Proxy, no trap', new Proxy(addAsync, {})],
  ['Proxy, apply trap calling directly', new Proxy(addAsync, { apply: (t, self, args) => (args.length === 2 ? direct(self, args[0], args[1]) : Reflect.apply(t, self, args)) })],
  ['Proxy, apply trap with Reflect.apply', new Proxy(addAsync, { apply: (t, self, args) => Reflect.apply(t, self, args) })],
  ['plain function wrapper', plainWrapper(undefined)],
  ['plain wrapper, AsyncFunction.prototype', plainWrapper(AsyncFunction.prototype)],
];

let loopNumber = 0;
const loops = variants.map(
  () =>
    new AsyncFunction(
      'fn',
      'n',
      'now',
      `// floor loop ${++loopNumber}
       let sink = 0;
       const t0 = now();
       for (let i = 0; i < n; i++) { const r = await fn(i, 1); if (r === -1) sink++; }
       globalThis.__benchSink = sink;
       return (now() - t0) / n;`,
    ),
);

const best = variants.map(() => Infinity);
for (let r = 0; r < ROUNDS; r++) {
  for (let v = 0; v < variants.length; v++) {
    // A turn of the event loop between rows, as measureAsync does.
    await new Promise((resolve) => setImmediate(resolve));
    best[v] = Math.min(best[v], await loops[v](variants[v][1], ITERATIONS, now));
  }
}

console.log(`\nasync stand-ins (node ${process.version}, ${CLOCK} clock, ns per awaited call, best of ${ROUNDS} interleaved rounds)`);
for (let v = 0; v < variants.length; v++) {
  const [name, fn] = variants[v];
  const promise = fn(1, 2);
  const facts = [
    `inspect ${inspect(fn)}`,
    `isAsyncFunction ${types.isAsyncFunction(fn)}`,
    `instanceof AsyncFunction ${fn instanceof AsyncFunction}`,
    `prototype ${Object.getPrototypeOf(fn) === AsyncFunction.prototype ? 'AsyncFunction' : 'Function'}`,
  ];
  await promise;
  console.log(`  ${name.padEnd(40)} ${best[v].toFixed(1).padStart(7)} ns ${(best[v] / best[0]).toFixed(2).padStart(6)}x  ${facts.join(', ')}`);
}
