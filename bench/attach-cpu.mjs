// CPU of one attach, on both sides: `livetrace trace <pid> lib:hot --json --max 1` against a
// fresh CommonJS target, as bench/system.mjs --only=attach runs it, but counting CPU time
// (which waiting for a core does not inflate) besides the wall time to the first event:
//   cli     the CLI process's own CPU (process.cpuUsage at its exit, from a -r preload)
//   target  the target's CPU from just before the CLI starts to the CLI's exit (/proc/<pid>/stat),
//           less what it spends idle in the same time (measured before the attach)
//   wall    spawn of the CLI to its first event on stdout
// Linux only. Usage: node bench/attach-cpu.mjs [runs] [--root=<livetrace checkout>]
//   (the Node running this script runs both the CLI and the target)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 7);
const rootArg = process.argv.find((a) => a.startsWith('--root='));
const root = rootArg ? resolve(rootArg.slice(7)) : join(fileURLToPath(import.meta.url), '..', '..');
const cli = join(root, 'bin', 'livetrace.js');
const work = mkdtempSync(join(tmpdir(), 'lt-attach-cpu-'));
const TICK = 1000 / 100; // USER_HZ
writeFileSync(join(work, 'lib.cjs'), "exports.hot = function hot(i, tag) { return i + tag.length; };\n");
writeFileSync(join(work, 'main.cjs'), "const lib = require('./lib.cjs');\nlet n = 0;\nsetInterval(() => { n += lib.hot(n & 1023, 'x'); }, 1);\nconsole.log('ready');\n");
writeFileSync(join(work, 'cpu.cjs'), "process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write(`\\nCPU ${(u.user + u.system) / 1000}\\n`); });\n");
const env = { ...process.env, LIVETRACE_SOCKET_DIR: join(work, 'sockets') };

const cpuOf = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK;
};
const line = (child, pattern) =>
  new Promise((res, rej) => {
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      text += chunk;
      if (pattern.test(text)) res(performance.now());
    });
    child.once('exit', () => rej(new Error('exited first')));
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (let run = 0; run < runs; run++) {
  const target = spawn(process.execPath, [join(work, 'main.cjs')], { cwd: work, env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await line(target, /ready/);
    const idle0 = cpuOf(target.pid);
    const i0 = performance.now();
    await new Promise((r) => setTimeout(r, 300));
    const idlePerMs = (cpuOf(target.pid) - idle0) / (performance.now() - i0);
    const before = cpuOf(target.pid);
    const t0 = performance.now();
    const trace = spawn(process.execPath, ['-r', join(work, 'cpu.cjs'), cli, 'trace', String(target.pid), 'lib:hot', '--json', '--max', '1'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    trace.stderr.setEncoding('utf8');
    trace.stderr.on('data', (t) => (err += t));
    const first = line(trace, /"call"|"kind"/).catch(() => NaN);
    const code = await new Promise((r) => trace.once('exit', r));
    const t1 = performance.now();
    const targetCpu = cpuOf(target.pid) - before - idlePerMs * (t1 - t0);
    const cliCpu = Number(/CPU ([\d.]+)/.exec(err)?.[1]);
    if (code !== 0) throw new Error(`trace exited ${code}: ${err}`);
    rows.push({ wall: (await first) - t0, cli: cliCpu, target: targetCpu });
  } finally {
    target.kill();
  }
}
rmSync(work, { recursive: true, force: true });
const m = (key) => Math.round(median(rows.map((r) => r[key])));
console.log(
  JSON.stringify({
    node: process.version,
    runs,
    median: { wall: m('wall'), cli: m('cli'), target: m('target'), cpu: Math.round(median(rows.map((r) => r.cli + r.target))) },
    each: rows.map((r) => [Math.round(r.wall), Math.round(r.cli), Math.round(r.target)]),
  }),
);
