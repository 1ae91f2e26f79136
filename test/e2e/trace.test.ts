/**
 * `livetrace trace` end to end: the real CLI against real Node processes, once against
 * an app started with the agent preloaded (ESM, --import) and once against an app
 * started with plain `node` (CommonJS), which the CLI attaches to by itself.
 * Every format, every way a trace ends, commands on stdin, two CLIs at once, a CLI
 * killed with SIGKILL, and the target exiting under the trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { appsDir, cleanup, launchApp, tempDir, type LaunchOptions, type RunningApp } from '../integration/fixture-app.js';
import { killClis, linesMatching, runCli, startCli } from './cli-process.js';

interface Target {
  name: string;
  /** Starts a fixture app of test/fixtures/apps as this kind of target. */
  start(script: 'timer' | 'watch', options?: LaunchOptions): Promise<RunningApp>;
}

const targets: Target[] = [
  {
    name: 'a preloaded ESM app',
    // The watch fixture checks that the export itself is replaced and restored, which is
    // what the exports engine does; the preload engine's pinned dispatchers never move.
    start: (script, options = {}) =>
      script === 'timer'
        ? launchApp('timer.mjs', { preload: 'import', ...options })
        : launchApp('watch.cjs', { preload: 'import', ...options, env: { LIVETRACE_PRELOAD: '0', ...options.env } }),
  },
  {
    name: 'an attached CJS app',
    start: (script, options = {}) =>
      launchApp(script === 'timer' ? 'timer.cjs' : 'watch.cjs', { preload: 'none', nodeArgs: ['--inspect-port=0'], ...options }),
  },
];

const TIME = String.raw`\d\d:\d\d:\d\d\.\d{3}`;

afterEach(killClis);
afterAll(cleanup);

describe.each(targets)('livetrace trace on $name', (target) => {
  let app: RunningApp;
  let socketDir: string;

  beforeAll(async () => {
    socketDir = tempDir();
    app = await target.start('timer', { socketDir });
    // One command first, so that every test below (also run alone) finds the agent in.
    const ls = await runCli(['ls', String(app.pid), 'lib/users'], { socketDir });
    expect(ls.code, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^ {2}findUser +function +(exports|preload)( {2}\(warning \d+\))?$/m);
    if (target.name.includes('attached')) expect(ls.stderr).toMatch(new RegExp(`^attached to process ${app.pid} in \\d+ ms$`, 'm'));
  });

  const trace = (args: string[], timeoutMs?: number) =>
    runCli(['trace', String(app.pid), ...args], { socketDir, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  it('prints one pretty line per call, what matched on stderr, and why it stopped', async () => {
    const result = await trace(['lib/users:findUser', '--max', '3']);
    expect(result.code, result.stderr).toBe(0);
    const calls = linesMatching(result.stdout, new RegExp(`^${TIME} ${app.pid} lib/users\\.cjs:findUser\\((null|\\d)\\) → .+ [\\d.]+(ns|µs|ms)$`));
    expect(calls, result.stdout).toHaveLength(3);
    expect(result.stderr).toMatch(new RegExp(`tracing 'lib/users:findUser' in process ${app.pid} \\(session \\S+; max 3 calls, for 1m, rate 100/1s\\)`));
    expect(result.stderr).toMatch(/^ {2}lib\/users\.cjs:findUser \[(exports|preload)\]$/m);
    expect(result.stderr).toMatch(/^stopped: max 3 calls in \S+, 0 dropped$/m);
  });

  it('marks throws and shows when promises settle', async () => {
    const threw = await trace(['lib/math:divide when threw', '--max', '1']);
    expect(threw.code, threw.stderr).toBe(0);
    expect(threw.stdout).toMatch(/lib\/math\.cjs:divide\(\d+, 0\) ✗ threw RangeError: division by zero [\d.]+(µs|ms)/);
    const resolved = await trace(['lib/users:fetchUser', '--max', '1']);
    expect(resolved.stdout).toMatch(/lib\/users\.cjs:fetchUser\(\d\) → resolved \{id: \d, name: '\w+', role: '\w+'\} settled in [\d.]+(µs|ms)/);
  });

  it('prints the records as JSON lines with --json', async () => {
    const result = await trace(['lib/users:findUser', '--json', '--max', '2']);
    expect(result.code, result.stderr).toBe(0);
    const all = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // On the attached app fetchUser calls findUser by its own name, around the exports
    // wrapper: the reach check sees the first such call and moves findUser to a probe,
    // with one note, wherever it falls among the calls (src/agent/engines/reach/check.ts).
    const notes = all.filter((r) => r.type === 'note');
    if (target.name.includes('attached')) expect(notes).toEqual([expect.objectContaining({ kind: 'switched', fn: 'lib/users.cjs:findUser', pattern: 'lib/users:~findUser' })]);
    else expect(notes).toEqual([]);
    const records = all.filter((r) => r.type !== 'note');
    expect(records.map((r) => r.type)).toEqual(['started', 'call', 'call', 'stopped']);
    expect(records[1]).toMatchObject({ v: 1, type: 'call', fn: 'lib/users.cjs:findUser', pid: app.pid, parent: null, depth: 0 });
    expect(records[3]).toMatchObject({ type: 'stopped', reason: 'max', detail: 'max 2 calls' });
    expect(result.stderr).toMatch(/^stopped: max 2 calls in/m);
  });

  it('prints pino log lines with --format pino', async () => {
    const result = await trace(['lib/math:divide', '--format', 'pino', '--max', '5']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(7);
    for (const line of lines) {
      expect(line).toMatchObject({ pid: app.pid, hostname: expect.any(String), time: expect.any(Number), msg: expect.any(String) });
    }
    const calls = lines.filter((line) => line.type === 'call');
    expect(calls.every((line) => line.msg === `call lib/math.cjs:divide${line.outcome === 'throw' ? ' threw' : ''}`)).toBe(true);
    expect(calls.map((line) => line.level)).toEqual(calls.map((line) => (line.outcome === 'throw' ? 50 : 30)));
  });

  it('runs until its time limit with stdin at end of file (</dev/null)', async () => {
    const result = await trace(['lib/users:findUser(999)', '--for', '400ms']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^stopped: time limit 400ms in [\d.]+m?s, 0 calls, 0 dropped$/m);
  });

  it('drops calls over the rate and counts them', async () => {
    const result = await trace(['lib/math:add', '--json', '--rate', '2/1s', '--for', '1200ms']);
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; reason?: string; count?: number });
    const dropped = records.filter((r) => r.type === 'dropped');
    expect(dropped.length).toBeGreaterThan(0);
    expect(dropped.every((r) => r.reason === 'rate' && (r.count ?? 0) > 0)).toBe(true);
    expect(result.stderr).toMatch(/^stopped: time limit 1200ms in \S+, \d+ calls, [1-9]\d* dropped$/m);
  });

  it('stops at the rate with --trip', async () => {
    const result = await trace(['lib/math:add', '--rate', '2/1s', '--trip']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stopped: rate over 2\/1s \(--trip\) in/m);
  });

  it('takes commands on stdin: +pattern adds, a bad one is reported, ?fn lists callees, - stops', async () => {
    const cli = startCli(['trace', String(app.pid), 'lib/users:findUser', '--max', '1000'], { socketDir, stdin: 'pipe' });
    await cli.waitFor('stderr', /^tracing /m);
    cli.send('+lib/math:add(\n');
    await cli.waitFor('stderr', /\[LT_PATTERN_SYNTAX\]/);
    cli.send('+lib/math:add\n');
    await cli.waitFor('stderr', /^added 'lib\/math:add': 1 function$/m);
    await cli.waitFor('stdout', /lib\/math\.cjs:add\(\d+, 1\) → \d+/);
    cli.send('?lib/users:fetchUser\n');
    await cli.waitFor('stderr', /fetchUser .*calls:\n(.*\n)*.*lib\/users(\.cjs)?:findUser/);
    cli.send('-\n');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stopped: by the user in \S+, \d+ calls, 0 dropped$/m);
  });

  it('stops cleanly on Ctrl-C (SIGINT)', async () => {
    const cli = startCli(['trace', String(app.pid), 'lib/users:findUser'], { socketDir });
    await cli.waitFor('stdout', /lib\/users\.cjs:findUser/);
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stopped: by the user in/m);
  });

  it('lets two CLIs trace the same process at once', async () => {
    const [users, math] = await Promise.all([
      trace(['lib/users:findUser', '--max', '3', '--json']),
      trace(['lib/math:add', '--max', '3', '--json']),
    ]);
    for (const [result, fn] of [
      [users, 'lib/users.cjs:findUser'],
      [math, 'lib/math.cjs:add'],
    ] as const) {
      expect(result.code, result.stderr).toBe(0);
      const calls = result.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; fn?: string })
        .filter((r) => r.type === 'call');
      expect(calls.map((c) => c.fn)).toEqual([fn, fn, fn]);
    }
  });

  it('leaves nothing behind when the CLI is killed with SIGKILL, and the target keeps serving', async () => {
    const dir = tempDir();
    const watched = await target.start('watch', { socketDir: dir });
    try {
      const cli = startCli(['trace', String(watched.pid), 'lib/math:add', '--for', '30s'], { socketDir: dir });
      await watched.waitForLine(/^patched /);
      await cli.waitFor('stdout', /lib\/math\.cjs:add/);
      cli.child.kill('SIGKILL');
      await cli.done;
      // The agent sees the connection drop and restores the original export.
      await watched.waitForLine(/^unpatched /, 5000);
      const again = await runCli(['trace', String(watched.pid), 'lib/math:add', '--max', '1'], { socketDir: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/lib\/math\.cjs:add\(1, 2\) → 3/);
      const ps = await runCli(['ps', '--json'], { socketDir: dir });
      const agents = JSON.parse(ps.stdout) as { pid: number; sessions: number }[];
      expect(agents.find((a) => a.pid === watched.pid)).toMatchObject({ sessions: 0 });
    } finally {
      await watched.kill();
    }
  });

  it('says so and exits 0 when the target exits mid-trace', async () => {
    const dir = tempDir();
    const doomed = await target.start('timer', { socketDir: dir });
    try {
      const cli = startCli(['trace', String(doomed.pid), 'lib/users:findUser', '--for', '30s'], { socketDir: dir });
      await cli.waitFor('stdout', /lib\/users\.cjs:findUser/);
      await doomed.kill('SIGTERM');
      const result = await cli.done;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(new RegExp(`^stopped: (target process ${doomed.pid} exited|the process is exiting|the connection to process ${doomed.pid} closed)`, 'm'));
    } finally {
      await doomed.kill();
    }
  });
});

describe('livetrace trace on a preloaded app that ends by itself', () => {
  it('reports the exit and exits 0', async () => {
    const dir = tempDir();
    // The app ends (clears its timer) once the trace is on, however long the CLI took to start.
    const stopFile = join(dir, 'stop');
    const code = [
      `const users = require(${JSON.stringify(join(appsDir, 'lib/users.cjs'))});`,
      'const fs = require("node:fs");',
      `const timer = setInterval(() => { users.findUser(1); if (fs.existsSync(${JSON.stringify(stopFile)})) clearInterval(timer); }, 20);`,
      'console.log(`ready ${process.pid}`);',
    ].join('\n');
    const app = await launchApp(['-e', code], { preload: 'require', socketDir: dir });
    const cli = startCli(['trace', String(app.pid), 'lib/users:findUser', '--for', '30s'], { socketDir: dir });
    await cli.waitFor('stdout', /lib\/users\.cjs:findUser/);
    writeFileSync(stopFile, '');
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/lib\/users\.cjs:findUser/);
    expect(result.stderr).toMatch(/^stopped: (target process \d+ exited|the process is exiting|the connection to process \d+ closed)/m);
  });
});
