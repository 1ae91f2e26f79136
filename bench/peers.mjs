// What a Node user could use instead of livetrace, each measured on the same tiny function
// and call site as bench/engine.mjs, sync and async, in one process:
//   npm run build && node bench/peers.mjs [--quick] [--json]
//
// - a hand-written wrapper (`...args` + apply);
// - a shimmer-style wrapper: the pattern of the shimmer package (the wrapper installed by
//   defineProperty with the original's enumerability, `__original`/`__unwrap`/`__wrapped`
//   marks, the body forwarding `arguments` with apply), written out here, not the package;
// - diagnostics_channel's TracingChannel around the function, the way instrumentations
//   publish (a context object per call, traceSync / tracePromise): with no subscriber,
//   with a no-op subscriber, and with a subscriber that builds the event livetrace builds
//   (the arguments and the outcome snapshotted by livetrace's own bounded Capturer,
//   the timing from the same clock, an event object queued and drained in the loop).
//
// The inspector logpoint is in bench/logpoint.mjs: enabling the Debugger changes the cost
// of every later async call in the process, so it gets a process of its own.
import { tracingChannel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { Capturer } from '../dist/esm/agent/capture/capturer.js';
import { clock, wallTime } from '../dist/esm/agent/clock.js';
import { measure, measureAsync, report } from './harness.mjs';

const target = createRequire(import.meta.url)('./fixtures/target.cjs');
const original = { add: target.add, addAsync: target.addAsync };

function handWrapper(fn) {
  return function (...args) {
    return fn.apply(this, args);
  };
}

/** shimmer.wrap(nodule, name, wrapper) and its unwrap, as the package does them. */
function shimmerWrap(nodule, name, wrapper) {
  const previous = nodule[name];
  const enumerable = Object.prototype.propertyIsEnumerable.call(nodule, name);
  const define = (obj, key, value) => Object.defineProperty(obj, key, { configurable: true, enumerable: obj === nodule && enumerable, writable: true, value });
  const wrapped = wrapper(previous, name);
  define(wrapped, '__original', previous);
  define(wrapped, '__unwrap', () => {
    if (nodule[name] === wrapped) define(nodule, name, previous);
  });
  define(wrapped, '__wrapped', true);
  define(nodule, name, wrapped);
  return wrapped;
}

// The usual instrumentation wrapper under shimmer: forwards `arguments` as it came.
const shimmerStyle = (fn) =>
  function wrapped() {
    return fn.apply(this, arguments);
  };

function tracingWrapper(channel, fn, async) {
  return async
    ? function (...args) {
        return channel.tracePromise(fn, { self: this, args }, this, ...args);
      }
    : function (...args) {
        return channel.traceSync(fn, { self: this, args }, this, ...args);
      };
}

const noop = () => {};
const noopSubscriber = { start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop };

/**
 * A subscriber that produces what livetrace reports for a call: args, outcome, value,
 * duration (and settle time for a promise), id, timestamps; events go to a queue that
 * `drain` empties. Nothing here is cheaper than livetrace's own path by construction:
 * the same Capturer, the same clock.
 */
function eventSubscriber(fn, async) {
  const capturer = new Capturer();
  const queue = [];
  let nextId = 1;
  const build = (ctx, outcome, value, durationNs, settleNs) => {
    capturer.begin();
    const captured = capturer.value(value);
    const result = capturer.end();
    const event = {
      v: 1,
      type: 'call',
      session: 'bench',
      id: ctx.id,
      parent: null,
      depth: 0,
      fn,
      module: 'bench/fixtures/target',
      engine: 'diagnostics_channel',
      pid: process.pid,
      ts: wallTime(ctx.start),
      args: ctx.captured,
      outcome,
      durationNs: Math.round(durationNs),
      truncated: ctx.truncated || result.truncated,
    };
    if (outcome === 'throw' || outcome === 'reject') event.error = captured;
    else event.value = captured;
    if (settleNs !== undefined) event.settleNs = Math.round(settleNs);
    queue.push(event);
  };
  const subscriber = {
    start(ctx) {
      ctx.id = nextId++;
      capturer.begin();
      ctx.captured = capturer.values(ctx.args);
      ctx.truncated = capturer.end().truncated;
      ctx.start = clock();
    },
    end(ctx) {
      ctx.end = clock();
      if (!async) build(ctx, 'error' in ctx ? 'throw' : 'return', 'error' in ctx ? ctx.error : ctx.result, ctx.end - ctx.start);
    },
    asyncStart: noop,
    asyncEnd(ctx) {
      const at = clock();
      const failed = 'error' in ctx;
      build(ctx, failed ? 'reject' : 'resolve', failed ? ctx.error : ctx.result, ctx.end - ctx.start, at - ctx.start);
    },
    error: noop,
  };
  return { subscriber, queue, drain: () => void queue.splice(0, queue.length) };
}

const syncCall = 'target.add(i, 1)';
const asyncCall = 'target.addAsync(i, 1)';
const sync = [];
const asyncRows = [];

async function row(id, name, install, { note, drain, subscribe } = {}) {
  for (const [key, rows, call, isAsync] of [
    ['add', sync, syncCall, false],
    ['addAsync', asyncRows, asyncCall, true],
  ]) {
    const cleanup = install(key, isAsync);
    const sub = subscribe?.(key, isAsync);
    const drainFn = sub?.drain ?? drain;
    const ns = isAsync
      ? await measureAsync(target, call, { drain: drainFn, ...(sub ? { iterations: 100_000, rounds: 5, warmup: 10_000 } : {}) })
      : measure(target, call, { drain: drainFn, ...(sub ? { iterations: 500_000, rounds: 5, warmup: 50_000 } : {}) });
    const noteText = sub?.note?.() ?? note;
    sub?.unsubscribe();
    cleanup?.();
    if (target[key] !== original[key]) throw new Error(`${name}: ${key} was not restored`);
    rows.push({ id, mode: isAsync ? 'async' : 'sync', name, ns, ...(noteText ? { note: noteText } : {}) });
  }
}

const put = (key, fn) => {
  target[key] = fn;
  return () => void (target[key] = original[key]);
};

await row('bare', 'bare call', () => undefined);
await row('hand-wrapper', 'hand-written wrapper', (key) => put(key, handWrapper(original[key])));
await row('shimmer', 'shimmer-style wrapper', (key) => {
  const wrapped = shimmerWrap(target, key, shimmerStyle);
  return () => wrapped.__unwrap();
});

let channelNumber = 0;
function withChannel(id, name, makeSubscriber) {
  let channel;
  return row(id, name, (key, isAsync) => {
    channel = tracingChannel(`livetrace-bench:${channelNumber++}`);
    return put(key, tracingWrapper(channel, original[key], isAsync));
  }, {
    subscribe: (key, isAsync) => {
      if (makeSubscriber === undefined) return undefined;
      const made = makeSubscriber(key, isAsync);
      channel.subscribe(made.subscriber);
      let published = 0;
      return {
        drain: made.drain === undefined ? undefined : () => {
          published += made.queue.length;
          made.drain();
        },
        note: made.queue === undefined ? undefined : () => `events built: ${published + made.queue.length}`,
        unsubscribe: () => channel.unsubscribe(made.subscriber),
      };
    },
  });
}

await withChannel('tc-none', 'TracingChannel, no subscriber');
await withChannel('tc-noop', 'TracingChannel, no-op subscriber', () => ({ subscriber: noopSubscriber }));
await withChannel('tc-event', 'TracingChannel, subscriber building the event', (key, isAsync) => eventSubscriber(key, isAsync));

report('peers, sync function', sync);
report('peers, async function', asyncRows);
