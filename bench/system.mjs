// livetrace end to end, with real processes on this machine (loopback only, every step
// bounded in time):
//   npm run build && node bench/system.mjs [--quick] [--json] [--only=stream-cli,stream-cli-capacity,stream-client,attach,service]
//
// 1. Streaming. A plain node target calls a traced function in a tight loop (1,000 calls
//    a turn, then setImmediate, so its agent gets the turns it needs to write).
//    a. Through the CLI, as a user would: `livetrace trace <pid> lib:hot --json
//       --rate off --max 1e9 --for 30s`, its stdout read by this process, which counts
//       lines (no parsing but of the few non-call records). The events received, the
//       drops and the stop reason come from the records; the rate is events over the
//       session's own elapsed time.
//       Then the same with --cpu-budget 1000 (stream-cli-capacity): what the pipe carries
//       when the overload breaker is not what stops it. With the default budget (50 ms
//       of livetrace's own time a second on average, a burst of 4x, at most 5x in one
//       second) the breaker bounds the long-run rate at 50 ms over the capture's own time
//       per event (about 0.3-0.4 us in this spinning target); the row's stopDetail says
//       which bound tripped when it stops.
//    b. Through the client library with the overload breaker relaxed (the CLI has no
//       flag for it), the JSON lines written to /dev/null as the CLI writes them: what
//       the pipe carries when nothing stops it, and the target's RSS sampled from
//       /proc/<pid>/status every second over the whole run (it must stay bounded: the
//       agent's queue is bounded in events and bytes).
// 2. Attach. A fresh plain node target (no preload, no flags) calling the function every
//    millisecond; the time from spawning `livetrace trace <pid> lib:hot --json --max 1`
//    to the first call event on its stdout, median of several targets.
// 3. Service latency. The demo service (recipes/demo), loaded from a second process
//    (bench/load.mjs: keep-alive agent, fixed concurrency, fixed duration) on GET
//    /users/:id, whose handler calls findUser. After an unrecorded warm-up run: untraced;
//    then `livetrace attach` (outside any measured run: attaching is figure 2); traced by
//    the CLI with the default options (rate 100/s, capture limits; --max raised so the
//    trace lasts the run); with --rate off (every call captured); untraced again (the
//    agent stays loaded) as a control for drift between runs.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '../dist/esm/client/index.js';
import { formatJsonRecord } from '../dist/esm/cli/format/json.js';

const quick = process.argv.includes('--quick');
const json = process.argv.includes('--json');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const part = (name) => only === undefined || only.includes(name);
const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'bin/livetrace.js');
const STREAM_S = quick ? 2 : 30;
const ATTACH_RUNS = quick ? 1 : 5;
const LOAD_S = quick ? 1 : 10;
const CONCURRENCY = 16;
/** Bound on every wait for a line, an exit, a connection. */
const WAIT_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'lt-bench-system-'));
const socketDir = join(work, 'sockets');
mkdirSync(socketDir, { mode: 0o700 });
const env = { ...process.env, LIVETRACE_SOCKET_DIR: socketDir };
delete env.NODE_OPTIONS;
const children = new Set();

// The target app: one module with the traced function, a main that calls it.
writeFileSync(join(work, 'lib.cjs'), "exports.hot = function hot(i, tag) { return i + tag.length; };\n");
writeFileSync(
  join(work, 'main.cjs'),
  `const lib = require('./lib.cjs');
let n = 0;
if (process.argv[2] === 'spin') {
  const spin = () => { for (let k = 0; k < 1000; k++) n += lib.hot(k, 'x'); setImmediate(spin); };
  spin();
} else {
  setInterval(() => { n += lib.hot(n & 1023, 'x'); }, 1);
}
console.log('ready');
`,
);

function start(args, options = {}) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.on('exit', () => children.delete(child));
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text) => (child.stderrText = (child.stderrText + text).slice(-4000)));
  return child;
}

function within(promise, what, ms = WAIT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** The first stdout line matching `pattern`. */
function lineOf(child, pattern, what) {
  return within(
    new Promise((resolve, reject) => {
      let text = '';
      const onData = (chunk) => {
        text += chunk;
        const match = pattern.exec(text);
        if (match !== null) {
          child.stdout.off('data', onData);
          resolve(match);
        }
      };
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${what}: exited (${code}) first: ${child.stderrText}`)));
    }),
    what,
  );
}

function exited(child, what, ms = WAIT_MS) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return within(new Promise((resolve) => child.once('exit', (code) => resolve(code))), what, ms);
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  try {
    await exited(child, 'a child to exit', 5000);
  } catch {
    child.kill('SIGKILL');
  }
}

function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]) / 1024;
}

/** Samples a pid's RSS every second until stopped. */
function sampleRss(pid) {
  const samples = [rssMb(pid)];
  const timer = setInterval(() => {
    try {
      samples.push(rssMb(pid));
    } catch {
      clearInterval(timer);
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    return { startMb: samples[0], maxMb: Math.max(...samples), endMb: samples.at(-1), samples: samples.length };
  };
}

/**
 * Reads a CLI's --json stdout: counts lines and call lines without parsing them (a call
 * record starts `{"v":1,"type":"c`), parses the others (started, dropped, stopped).
 */
function followJson(child) {
  const out = { lines: 0, calls: 0, records: [], firstCall: undefined };
  let carry = Buffer.alloc(0);
  child.stdout.on('data', (chunk) => {
    const buf = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      out.lines++;
      if (buf[start + 15] === 0x63) {
        out.calls++;
        out.firstCall ??= performance.now();
      } else out.records.push(JSON.parse(buf.toString('utf8', start, nl)));
      start = nl + 1;
    }
    carry = buf.subarray(start);
  });
  out.record = (type) => out.records.findLast((r) => r.type === type);
  out.dropped = () => out.records.filter((r) => r.type === 'dropped').reduce((n, r) => n + r.count, 0);
  return out;
}

async function spinningTarget() {
  const target = start([join(work, 'main.cjs'), 'spin'], { cwd: work });
  await lineOf(target, /^ready$/m, 'the target to start');
  return target;
}

// ---------------------------------------------------------------------------------------

const rows = [];
const row = (id, name, value, unit, detail) => rows.push({ id, name, value, unit, ...(detail ? { detail } : {}) });

async function streamThroughCli(budget) {
  const target = await spinningTarget();
  try {
    const flags = budget === undefined ? [] : ['--cpu-budget', String(budget)];
    const trace = start([cli, 'trace', String(target.pid), 'lib:hot', '--json', '--rate', 'off', '--max', '1000000000', '--for', `${STREAM_S}s`, ...flags], { cwd: work });
    const out = followJson(trace);
    const stopRss = sampleRss(target.pid);
    const code = await exited(trace, 'the streaming CLI to end', (STREAM_S + 30) * 1000);
    const rss = stopRss();
    const stopped = out.record('stopped');
    if (code !== 0 || stopped === undefined) throw new Error(`livetrace trace exited ${code}: ${trace.stderrText}`);
    const seconds = stopped.stats.elapsedMs / 1000;
    const [id, name] =
      budget === undefined
        ? ['stream-cli', 'streaming through the CLI (--rate off), events/s']
        : ['stream-cli-capacity', `streaming through the CLI (--rate off --cpu-budget ${budget}), events/s`];
    row(id, name, out.calls / seconds, 'events/s', {
      received: out.calls,
      reported: stopped.stats.reported,
      calls: stopped.stats.calls,
      dropped: stopped.stats.dropped,
      stopReason: stopped.reason,
      stopDetail: stopped.detail,
      sessionSeconds: seconds,
      targetRss: rss,
    });
  } finally {
    await stopChild(target);
  }
}

async function streamThroughClient() {
  const target = await spinningTarget();
  // The CLI attaches; this run connects to the agent that the attach leaves listening.
  const attach = start([cli, 'attach', String(target.pid)], { cwd: work });
  if ((await exited(attach, 'livetrace attach')) !== 0) throw new Error(`livetrace attach failed: ${attach.stderrText}`);
  const client = await connect(target.pid, { socketDir });
  const sink = createWriteStream('/dev/null');
  try {
    const session = await client.trace('lib:hot', { rate: false, max: 1e9, for: `${STREAM_S}s`, overloadMsPerSec: 1000 });
    const stopRss = sampleRss(target.pid);
    let calls = 0;
    let dropped = 0;
    let stopped;
    for await (const record of session) {
      if (record.type === 'call') calls++;
      else if (record.type === 'dropped') dropped += record.count;
      else if (record.type === 'stopped') stopped = record;
      if (!sink.write(formatJsonRecord(record))) await new Promise((resolve) => sink.once('drain', resolve));
    }
    const rss = stopRss();
    const seconds = stopped.stats.elapsedMs / 1000;
    row('stream-client', 'streaming through the client library, breaker relaxed, events/s', calls / seconds, 'events/s', {
      received: calls,
      calls: stopped.stats.calls,
      droppedRecords: dropped,
      dropped: stopped.stats.dropped,
      stopReason: stopped.reason,
      sessionSeconds: seconds,
      targetRss: rss,
    });
    row('stream-rss', `target RSS, max over ${STREAM_S} s of streaming`, rss.maxMb, 'MB', rss);
  } finally {
    sink.end();
    await client.close();
    await stopChild(target);
  }
}

async function attachTimes() {
  const times = [];
  const attachMs = [];
  for (let run = 0; run < ATTACH_RUNS; run++) {
    const target = start([join(work, 'main.cjs'), 'tick'], { cwd: work });
    try {
      await lineOf(target, /^ready$/m, 'the target to start');
      const t0 = performance.now();
      const trace = start([cli, 'trace', String(target.pid), 'lib:hot', '--json', '--max', '1'], { cwd: work });
      const out = followJson(trace);
      const code = await exited(trace, 'the attaching CLI to end');
      if (code !== 0 || out.firstCall === undefined) throw new Error(`livetrace trace exited ${code} with ${out.calls} calls: ${trace.stderrText}`);
      times.push(out.firstCall - t0);
      const said = /attached to process \d+ in (\d+) ms/.exec(trace.stderrText);
      if (said !== null) attachMs.push(Number(said[1]));
    } finally {
      await stopChild(target);
    }
  }
  const sorted = [...times].sort((a, b) => a - b);
  row('attach', 'attach: spawn of `livetrace trace <pid>` to its first event, median', sorted[Math.floor(sorted.length / 2)], 'ms', {
    runs: times.map((t) => Math.round(t)),
    maxMs: Math.round(sorted.at(-1)),
    attachStepMs: attachMs,
  });
}

async function serviceLatency() {
  const app = join(root, 'recipes', 'demo');
  const service = start([join('src', 'server.js')], { cwd: app, env: { ...env, DEMO_PORT: '0' } });
  try {
    const [, base] = await lineOf(service, /demo listening on (http:\/\/127\.0\.0\.1:\d+)/, 'the demo service to start');
    const load = async () => {
      const child = start([join(root, 'bench/load.mjs'), base, String(CONCURRENCY), String(LOAD_S), '/users/1,/users/2,/users/3']);
      const [line] = await lineOf(child, /^\{.*\}$/m, 'the load generator', (LOAD_S + 30) * 1000);
      await exited(child, 'the load generator to exit');
      const result = JSON.parse(line);
      if (result.requests === 0 || result.errors > 0) throw new Error(`load run: ${line}`);
      return result;
    };
    const traced = async (flags) => {
      const trace = start([cli, 'trace', String(service.pid), 'src/users:findUser', '--json', '--max', '1000000000', '--for', `${LOAD_S + 60}s`, ...flags], { cwd: app });
      const out = followJson(trace);
      await within(new Promise((resolve) => trace.stdout.once('data', resolve)), 'the trace to start');
      const result = await load();
      trace.kill('SIGINT');
      if ((await exited(trace, 'the trace to stop')) !== 0) throw new Error(`livetrace trace: ${trace.stderrText}`);
      const stopped = out.record('stopped');
      return { ...result, events: out.calls, reported: stopped?.stats.reported, dropped: stopped?.stats.dropped, stopReason: stopped?.reason };
    };
    await load();
    const untraced = await load();
    const attach = start([cli, 'attach', String(service.pid)], { cwd: app });
    if ((await exited(attach, 'livetrace attach')) !== 0) throw new Error(`livetrace attach failed: ${attach.stderrText}`);
    const tracedDefault = await traced([]);
    const tracedAll = await traced(['--rate', 'off']);
    const untracedAfter = await load();
    const put = (id, name, r) => {
      row(`${id}-p50`, `${name}, p50`, r.p50Ms, 'ms', r);
      row(`${id}-p99`, `${name}, p99`, r.p99Ms, 'ms');
    };
    put('service-untraced', 'demo service untraced', untraced);
    put('service-traced', 'demo service, default trace on findUser', tracedDefault);
    put('service-traced-all', 'demo service, trace on findUser with --rate off', tracedAll);
    put('service-untraced-after', 'demo service untraced again (agent loaded, no session)', untracedAfter);
  } finally {
    await stopChild(service);
  }
}

try {
  if (part('stream-cli')) await streamThroughCli();
  if (part('stream-cli-capacity')) await streamThroughCli(1000);
  if (part('stream-client')) await streamThroughClient();
  if (part('attach')) await attachTimes();
  if (part('service')) await serviceLatency();
} finally {
  for (const child of children) await stopChild(child);
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify({ title: 'system', node: process.version, rows }));
} else {
  console.log(`\nsystem figures (node ${process.version})`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(width)}  ${r.value.toFixed(r.unit === 'events/s' ? 0 : 1).padStart(10)} ${r.unit}`);
    if (r.detail) console.log(`    ${JSON.stringify(r.detail)}`);
  }
}
