// The cost of the dashboard's Latency page to the target (issue 16): a target calls two
// functions 10,000 times a second each; its CPU (user + system, from /proc) is measured
// over windows with nothing open, and with a Latency run open on both functions (a hist
// session and a rate-limited sampling session per process, stats once a second, as the
// page starts them). Baseline and Latency windows alternate, `--rounds` times, so drift in
// the machine's load hits both; the report gives each window and the medians.
//
//   npm run build && node bench/dashboard.mjs [--rounds 3] [--window 10] [--rate 10000] [--json]
//
// The environment passes through to the target, LIVETRACE_REACH_CHECK_MS included: until
// the reach check stops switching V8's precise coverage on after each session starts (it
// makes every call 10-20x slower for its window), measure with LIVETRACE_REACH_CHECK_MS=0.
// The report says which was in force.
//
// The page is driven over HTTP exactly as the browser drives it (the live channel is an
// EventSource GET, Run a POST); the browser's own cost is the browser's, not the target's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(argv[i + 1]);
};
const rounds = arg('rounds', 3);
const windowS = arg('window', 10);
const rate = arg('rate', 10_000);
const json = argv.includes('--json');
const USER_HZ = 100;

function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

function waitLine(stream, pattern) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      text += chunk;
      const match = pattern.exec(text);
      if (match) resolve(match);
    });
    stream.on('close', () => reject(new Error(`ended without ${pattern}: ${text}`)));
  });
}

async function measure(pid, seconds) {
  const before = cpuMs(pid);
  const at = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  return ((cpuMs(pid) - before) / (performance.now() - at)) * 100;
}

function http(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Opens the page's live channel; resolves with its id and a close(). */
function openChannel(origin, cookie) {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/events`, { headers: { Cookie: cookie } }, (res) => {
      let text = '';
      let points = 0;
      let stopReason = null;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
        points += (chunk.match(/event: latency\n/g) ?? []).length;
        const stopped = /"type":"stopped"[^\n]*?"reason":"(\w[\w-]*)"/.exec(chunk);
        if (stopped) stopReason = stopped[1];
        const id = /"channel":"([^"]+)"/.exec(text)?.[1];
        if (id) resolve({ id, points: () => points, stopReason: () => stopReason, close: () => req.destroy() });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const socketDir = mkdtempSync(join(tmpdir(), 'lt-bench-dash-'));
const env = { ...process.env, LIVETRACE_SOCKET_DIR: socketDir, RATE: String(rate) };
delete env.NODE_OPTIONS;
const target = spawn(process.execPath, ['--require', join(root, 'dist/cjs/register.js'), join(root, 'bench/fixtures/dashboard-target.cjs')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const cli = spawn(process.execPath, [join(root, 'bin/livetrace.js'), 'dashboard'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
try {
  await waitLine(target.stdout, /^ready \d+/m);
  const url = (await waitLine(cli.stdout, /livetrace dashboard on (http:\/\/\S+)/))[1];
  const origin = new URL(url).origin;
  const admitted = await http(url);
  const cookie = String(admitted.headers['set-cookie']).split(';')[0];
  // Warm up: the target's JIT settles on its loop before anything is measured.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const windows = [];
  for (let round = 0; round < rounds; round++) {
    const base = await measure(target.pid, windowS);
    const channel = await openChannel(origin, cookie);
    const reply = await http(`${origin}/api/latency`, {
      method: 'POST',
      headers: { Cookie: cookie, Origin: origin, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: channel.id, pids: [target.pid], patterns: ['dashboard-target:parse', 'dashboard-target:score'], for: `${windowS + 30}s` }),
    });
    const started = JSON.parse(reply.body);
    if (!started.ok) throw new Error(`latency run refused: ${reply.body}`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const open = await measure(target.pid, windowS);
    const points = channel.points();
    // A hist session the agent's overload breaker stopped cost nothing for the rest of the window: say so.
    const stopReason = channel.stopReason();
    channel.close();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    windows.push({ base, open, points, stopReason });
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const result = {
    rate,
    windowS,
    rounds: windows.map((w) => ({ baselinePercent: +w.base.toFixed(2), latencyOpenPercent: +w.open.toFixed(2), addedPercent: +(w.open - w.base).toFixed(2), latencyEvents: w.points, histStopped: w.stopReason })),
    medianAddedPercent: +median(windows.map((w) => w.open - w.base)).toFixed(2),
    node: process.version,
    reachCheckMs: env.LIVETRACE_REACH_CHECK_MS ?? null,
    loadavg: loadavg().map((n) => +n.toFixed(2)),
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`target: 2 functions x ${rate} calls/s; windows of ${windowS} s; LIVETRACE_REACH_CHECK_MS=${result.reachCheckMs ?? '(unset)'}; load average ${result.loadavg.join(' ')}`);
    console.log('round  baseline %core  latency open %core  added %core  latency events  hist session');
    result.rounds.forEach((r, i) => console.log(`${String(i + 1).padEnd(6)} ${String(r.baselinePercent).padStart(14)} ${String(r.latencyOpenPercent).padStart(19)} ${String(r.addedPercent).padStart(12)} ${String(r.latencyEvents).padStart(15)}  ${r.histStopped === null ? 'ran the whole window' : `stopped early: ${r.histStopped}`}`));
    console.log(`median added: ${result.medianAddedPercent}% of a core`);
  }
} finally {
  target.kill('SIGKILL');
  cli.kill('SIGTERM');
  rmSync(socketDir, { recursive: true, force: true });
}
