/**
 * `livetrace run` and `livetrace demo` end to end: a program started under the CLI is
 * traced from its first calls (CJS and ESM), its stdio and exit status pass through, the
 * trace ends by its limits or with the program, and the demo names the caller that
 * passed null.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appsDir, cleanup, tempDir } from '../integration/fixture-app.js';
import { killClis, runCli, startCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

const node = process.execPath;

describe('livetrace run', () => {
  it('traces a CommonJS program from its first call and exits with it', async () => {
    const result = await runCli(['run', '-t', 'lib/users:findUser', '-t', 'lib/math:add', '--', node, 'timer.cjs'], {
      socketDir: tempDir(),
      cwd: appsDir,
      env: { FIXTURE_TICKS: '3' },
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    // The program's own output and the events share stdout; the first tick is there.
    expect(lines).toContain(`done ${/ready (\d+)/.exec(result.stdout)![1]}`);
    expect(result.stdout).toMatch(/ lib\/math\.cjs:add\(1, 1\) → 2 /);
    expect(result.stdout).toMatch(/ lib\/users\.cjs:findUser\(2\) → \{id: 2, name: 'grace', role: 'user'\} /);
    expect(result.stderr).toMatch(/^ {2}lib\/users\.cjs:findUser \[preload\]$/m);
    // 9: the run's modules are instrumented (docs/transparency.md, "Body instrumentation"), so
    // fetchUser's own call of findUser (through the module's variable) is seen too, 3 ticks.
    expect(result.stderr).toMatch(/^stopped: the process is exiting in \S+, 9 calls, 0 dropped$/m);
  });

  it('traces an ES module program, with the events in --output', async () => {
    const dir = tempDir();
    const output = join(dir, 'events.ndjson');
    const result = await runCli(['run', '-t', 'lib/greet:*', '--json', '--output', output, '--', node, 'timer.mjs'], {
      socketDir: dir,
      cwd: appsDir,
      env: { FIXTURE_TICKS: '2' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ready \d+\ndone \d+\n$/);
    const records = readFileSync(output, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ type: 'started', patterns: ['lib/greet:*'] });
    expect(records.at(-1)).toMatchObject({ type: 'stopped', reason: 'exit' });
    const calls = records.filter((r) => r.type === 'call') as unknown as { id: number; parent: number | null; fn: string }[];
    expect(calls[0]).toMatchObject({ fn: 'lib/greet.mjs:greet', args: ['ada'], outcome: 'return', value: 'hello ada', engine: 'preload' });
    // greetLater calls greet: that greet's parent is the greetLater call (it ends, and so arrives, first).
    const later = calls.filter((c) => c.fn === 'lib/greet.mjs:greetLater');
    const nested = calls.filter((c) => c.parent !== null);
    expect(later).toHaveLength(2);
    expect(nested.map((c) => c.fn)).toEqual(['lib/greet.mjs:greet', 'lib/greet.mjs:greet']);
    expect(nested.map((c) => c.parent)).toEqual(later.map((c) => c.id));
  });

  it('draws nested calls under their parent', async () => {
    const result = await runCli(['run', '-t', 'lib/greet:*', '--', node, 'timer.mjs'], { socketDir: tempDir(), cwd: appsDir, env: { FIXTURE_TICKS: '1' } });
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout.split('\n').filter((line) => line.includes('lib/greet.mjs'));
    expect(events.map((line) => line.replace(/^\S+ \d+ /, '').replace(/\(.*$/, ''))).toEqual([
      'lib/greet.mjs:greet',
      'lib/greet.mjs:greetLater',
      '  lib/greet.mjs:greet',
    ]);
  });

  it("appends the preload to NODE_OPTIONS and exits with the program's status", async () => {
    const script = 'console.log(process.env.NODE_OPTIONS); process.exitCode = 3';
    const result = await runCli(['run', '-t', 'lib/users:findUser', '--', node, '-e', script], {
      socketDir: tempDir(),
      env: { NODE_OPTIONS: '--no-deprecation' },
    });
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^--no-deprecation --import \S+\/dist\/esm\/register\.js\n/);
    const killed = await runCli(['run', '-t', 'lib/users:findUser', '--', node, '-e', "process.kill(process.pid, 'SIGTERM')"], {
      socketDir: tempDir(),
    });
    expect(killed.code).toBe(143);
  });

  it('ends the trace by its limits while the program runs on', async () => {
    const result = await runCli(['run', '-t', 'lib/math:add', '--max', '2', '--', node, 'timer.cjs'], {
      socketDir: tempDir(),
      cwd: appsDir,
      env: { FIXTURE_TICKS: '10' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stopped: max 2 calls in/m);
    expect(result.stdout).toMatch(/^done \d+$/m);
    expect(result.stdout.match(/lib\/math\.cjs:add/g)).toHaveLength(2);
  });

  it('keeps the calls of busy children that exit before they could be claimed', async () => {
    // Each child makes its 1500 calls in one synchronous loop and ends with process.exit():
    // its event loop never turns, so the CLI can neither claim nor read its session; what
    // it queued reaches the CLI through the spool file written at exit.
    const dir = tempDir();
    const output = join(dir, 'events.ndjson');
    const result = await runCli(
      ['run', '-t', 'lib/math:add', '--max', '100000', '--rate', 'off', '--cpu-budget', '1000', '--json', '--output', output, '--', node, 'busy-children.cjs'],
      { socketDir: dir, cwd: appsDir, env: { FIXTURE_CHILDREN: '3', FIXTURE_CALLS: '1500' }, timeoutMs: 60_000 },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.match(/^child sum 1500$/gm)).toHaveLength(3);
    const records = readFileSync(output, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { type: string; pid: number; args?: unknown[]; reason?: string });
    const calls = records.filter((r) => r.type === 'call');
    const byPid = new Map<number, number>();
    for (const call of calls) byPid.set(call.pid, (byPid.get(call.pid) ?? 0) + 1);
    expect([...byPid.values()]).toEqual([1500, 1500, 1500]);
    const stops = records.filter((r) => r.type === 'stopped' && byPid.has(r.pid));
    expect(stops.map((r) => r.reason)).toEqual(['exit', 'exit', 'exit']);
    // The files are read and removed.
    expect(readdirSync(dir).filter((name) => name.startsWith('run-'))).toEqual([]);
  });

  it('passes SIGTERM on to the program', async () => {
    const cli = startCli(['run', '-t', 'lib/math:add', '--', node, 'timer.cjs'], { socketDir: tempDir(), cwd: appsDir });
    await cli.waitFor('stdout', /lib\/math\.cjs:add/);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(143);
    expect(result.stderr).toMatch(/^stopped: (process \d+ exited|the connection to process \d+ closed)/m);
  });
});

describe('livetrace demo', () => {
  it('shows the calls that passed null and names the route handler', async () => {
    const result = await runCli(['demo'], { socketDir: tempDir(), timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const nils = result.stdout.split('\n').filter((line) => line.includes("src/users.js:findUser(null, {role: 'customer'}) → resolved null"));
    expect(nils).toHaveLength(2);
    // The stack starts at the caller, as the README shows: findUser is body-instrumented
    // under `run`, and its own frame (at the text its rewrite inserted) is not the caller's.
    const lines = result.stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.includes('src/users.js:findUser(null')) expect(lines[i + 1]).toMatch(/^ +at (Object\.)?orderOwner \(.*recipes\/demo\/src\/routes\.js:\d+:\d+\)$/);
    }
    expect(result.stdout).toMatch(/^findUser was called with null by:\n {2}(Object\.)?orderOwner at .*routes\.js:\d+:\d+ \(2 calls\)$/m);
    expect(result.stderr).toMatch(/^stopped: by the user in \S+, 2 calls, 0 dropped$/m);
  });
});
