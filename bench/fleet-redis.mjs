// What one agent sends through Redis: a real redis-server (password, loopback, no
// persistence), four targets each calling lib/work.cjs's handler back to back with the
// agent preloaded and LIVETRACE_FLEET set, and one fleet session on all four, read by this
// process as `livetrace trace --fleet` reads it. Two runs: a `hist` session (stats records,
// one a second per agent) and a plain session with --rate off (one entry per call).
// Per agent: calls/s handled, stream entries/s and bytes/s through Redis.
//
//   npm run build && node bench/fleet-redis.mjs [seconds per run, default 10]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { openFleet, listAgents, FleetTrace } = await import(join(root, 'dist/esm/fleet/operator.js'));
const seconds = Number(process.argv[2] ?? 10);
const TARGETS = 4;
const password = 'bench-password';

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const waitLine = (stream, pattern) =>
  new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} in ${text}`)), 30_000);
    stream.setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

const dirs = [];
const children = [];
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'lt-bench-fleet-'));
  dirs.push(d);
  return d;
};
try {
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir()], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(redis);
  await waitLine(redis.stdout, /Ready to accept connections/);
  const url = `redis://:${password}@127.0.0.1:${port}`;
  for (let i = 0; i < TARGETS; i++) {
    const child = spawn(process.execPath, ['--import', join(root, 'dist/esm/register.js'), join(root, 'test/fixtures/apps/burst.cjs')], {
      cwd: join(root, 'test/fixtures/apps'),
      env: { ...process.env, LIVETRACE_SOCKET_DIR: dir(), LIVETRACE_FLEET: url, LIVETRACE_SERVICE: 'bench', LIVETRACE_FLEET_LOG: join(dir(), 'fleet.log'), FIXTURE_CALLS: '1000000000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    await waitLine(child.stdout, /^ready \d+/m);
  }
  const fleet = await openFleet(url, 'bench');
  let agents = [];
  while (agents.length < TARGETS) {
    agents = await listAgents(fleet, 'bench');
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const child of children.slice(1)) child.kill('SIGUSR2');

  const run = async (name, patterns, options) => {
    const trace = new FleetTrace(fleet, agents, { service: 'bench', patterns, options: { for: `${seconds + 30}s`, overloadMsPerSec: 1000, ...options } });
    await trace.start();
    const per = new Map(agents.map((a) => [a.id, { entries: 0, bytes: 0, calls: 0 }]));
    // Counting starts at each agent's 'started' record; the window is the same for all.
    let begin;
    for (;;) {
      for (const e of await trace.next(100)) if (e.kind === 'record' && e.record.type === 'started') begin ??= Date.now();
      if (begin !== undefined) break;
    }
    const end = begin + seconds * 1000;
    let lastStats = new Map();
    while (Date.now() < end) {
      const before = Date.now();
      for (const e of await trace.next(Math.max(1, end - before))) {
        if (e.kind !== 'record') continue;
        const bucket = per.get(e.agent);
        bucket.entries++;
        bucket.bytes += Buffer.byteLength(JSON.stringify(e));
        if (e.record.type === 'call') bucket.calls++;
        if (e.record.type === 'stats') lastStats.set(e.agent, e.record.functions.reduce((s, f) => s + f.calls, 0));
      }
    }
    await trace.stop();
    trace.close();
    const rows = [...per].map(([agent, b]) => ({
      agent,
      'calls/s': Math.round((name === 'hist' ? lastStats.get(agent) ?? 0 : b.calls) / seconds),
      'entries/s': +(b.entries / seconds).toFixed(1),
      'bytes/s': Math.round(b.bytes / seconds),
    }));
    console.log(`\n${name} session on ${TARGETS} targets, ${seconds} s (${patterns.join(' ')})`);
    console.table(rows);
    // Let the agents' sessions end before the next run.
    await new Promise((r) => setTimeout(r, 1500));
  };
  await run('hist', ['lib/work:handle -> hist'], {});
  await run('events', ['lib/work:handle'], { rate: false, max: 1_000_000_000 });
  fleet.close();
} finally {
  for (const child of children.reverse()) child.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
