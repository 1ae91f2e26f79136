/**
 * `livetrace ps` and `livetrace ls` end to end, and how every command refuses bad input:
 * exit status 2 with a coded message (a caret under a pattern error), for a bad pattern,
 * a bad option, a dead pid, a process that is not Node, and a Node process without an
 * agent when attaching is turned off.
 */
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, launchApp, tempDir, type RunningApp } from '../integration/fixture-app.js';
import { cliEnv, cliPath, killClis, runCli } from './cli-process.js';

afterEach(killClis);
afterAll(cleanup);

let app: RunningApp;
let socketDir: string;

beforeAll(async () => {
  socketDir = tempDir();
  app = await launchApp('timer.mjs', { preload: 'import', socketDir });
});

const cli = (args: string[]) => runCli(args, { socketDir });

describe('livetrace ps', () => {
  it('lists Node processes: pid, node version, uptime, memory, CPU, whether it can be traced, sessions, command line', async () => {
    const result = await cli(['ps']);
    expect(result.code, result.stderr).toBe(0);
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^\s*PID {2}NODE +UPTIME +RSS +CPU {2}TRACE +SESSIONS {2}COMMAND$/);
    const ours = rows.filter((row) => row.trimStart().startsWith(`${app.pid} `));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(new RegExp(`^\\s*${app.pid} {2}${process.version} +\\S+ +\\d+M +\\S+ {2}agent +0 {2}node .*timer\\.mjs$`));
  });

  it('shows a plain node process as attachable, without attaching to it', async () => {
    const plain = await launchApp('timer.cjs', { socketDir, preload: 'none' });
    try {
      const result = await cli(['ps', '--json']);
      const entry = (JSON.parse(result.stdout) as { pid: number; reach: string; agent: boolean }[]).find((p) => p.pid === plain.pid);
      expect(entry).toMatchObject({ pid: plain.pid, reach: 'attachable', agent: false, node: null });
      // Listing did not load an agent into it.
      const agents = JSON.parse((await cli(['ps', '--agents', '--json'])).stdout) as { pid: number }[];
      expect(agents.map((a) => a.pid)).not.toContain(plain.pid);
    } finally {
      await plain.kill();
    }
  });

  it('prints JSON with --json; --agents keeps the processes with an agent, and says when there is none', async () => {
    const result = await cli(['ps', '--agents', '--json']);
    expect(JSON.parse(result.stdout)).toEqual([
      expect.objectContaining({ pid: app.pid, node: process.version, sessions: 0, agent: true, reach: 'agent', argv: expect.arrayContaining([expect.stringMatching(/timer\.mjs$/)]) }),
    ]);
    const empty = await runCli(['ps', '--agents'], { socketDir: tempDir() });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/^no process with a livetrace agent/);
  });
});

describe('livetrace ls', () => {
  it('lists modules and functions with the engine that reaches each', async () => {
    const result = await cli(['ls', String(app.pid)]);
    expect(result.code, result.stderr).toBe(0);
    // Its two exports, and the arrow it keeps to itself (a probe's only).
    expect(result.stdout).toMatch(/^lib\/users\.cjs {2}\(app, 2 exported, 1 internal\)$/m);
    expect(result.stdout).toMatch(/^ {2}findUser +function +(preload|exports)$/m);
    expect(result.stdout).toMatch(/^ {2}fetchUser +async +(preload|exports)$/m);
    expect(result.stdout).toMatch(/^lib\/greet\.mjs /m);
  });

  it('narrows to a pattern and prints JSON', async () => {
    const result = await cli(['ls', String(app.pid), 'lib/math', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const modules = JSON.parse(result.stdout) as { module: string; functions: { path: string; engine: string | null }[] }[];
    expect(modules.map((m) => m.module)).toEqual(['lib/math.cjs']);
    expect(modules[0]!.functions.map((f) => f.path).sort()).toEqual(['add', 'divide']);
    const none = await cli(['ls', String(app.pid), 'nothing/here']);
    expect(none.stdout).toBe("nothing loaded matches 'nothing/here'\n");
  });
});

describe('bad input exits 2 with a coded message', () => {
  it('shows a caret under a pattern syntax error, before touching the process', async () => {
    const result = await cli(['trace', String(app.pid), 'lib/users:findUser(nil']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      [
        "livetrace: syntax error at column 23: expected ',' or ')', found end of pattern [LT_PATTERN_SYNTAX]",
        '  lib/users:findUser(nil',
        '                        ^',
        '  hint: Check the pattern at the column shown; see docs/patterns.md for the grammar.',
        '',
      ].join('\n'),
    );
  });

  it('names near misses for a pattern that matches nothing', async () => {
    const result = await cli(['trace', String(app.pid), 'lib/users:findUsr']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\[LT_PATTERN_NO_MATCH\]/);
    expect(result.stderr).toMatch(/Did you mean: .*lib\/users\.cjs:findUser/);
  });

  it('refuses a bad option', async () => {
    const forOption = await cli(['trace', String(app.pid), 'lib/users:findUser', '--for', 'soon']);
    expect(forOption.code).toBe(2);
    expect(forOption.stderr).toMatch(/for \(--for\) takes a duration .* \[LT_OPTION_INVALID\]/);
    const max = await cli(['trace', String(app.pid), 'lib/users:findUser', '--max', '0']);
    expect(max.code).toBe(2);
    expect(max.stderr).toMatch(/max \(--max\) takes a whole number from 1 to 1000000000, not 0 \[LT_OPTION_INVALID\]/);
    // The CLI refuses what the agent would, with the agent's own message (one check, protocol/options.ts).
    const depth = await cli(['trace', String(app.pid), 'lib/users:findUser', '--depth', '500']);
    expect(depth.code).toBe(2);
    expect(depth.stderr).toMatch(/depth \(--depth\) takes a whole number from 0 to 100, not 500 \[LT_OPTION_INVALID\]/);
    const format = await cli(['trace', String(app.pid), 'lib/users:findUser', '--format', 'xml']);
    expect(format.code).toBe(2);
  });

  it('refuses a dead pid and a pid that is not a number', async () => {
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.once('exit', () => resolve(child.pid!));
    });
    for (const command of [['trace', String(dead), 'lib/users:findUser'], ['ls', String(dead)]]) {
      const result = await cli(command);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`no process ${dead} \\[LT_PID_NOT_FOUND\\]`));
    }
    const word = await cli(['ls', 'abc']);
    expect(word.code).toBe(2);
    expect(word.stderr).toMatch(/'abc' is not a process id \[LT_PID_NOT_FOUND\]/);
  });

  it('refuses a process that is not Node', async () => {
    const sleeper = spawn('sleep', ['30']);
    try {
      const result = await cli(['trace', String(sleeper.pid), 'lib/users:findUser']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/\[LT_PID_NOT_NODE\]/);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('refuses a Node process without an agent when told not to attach', async () => {
    const dir = tempDir();
    const plain = await launchApp('timer.cjs', { preload: 'none', socketDir: dir });
    for (const command of [
      ['trace', String(plain.pid), 'lib/users:findUser', '--no-attach'],
      ['ls', String(plain.pid), '--no-attach'],
    ]) {
      const result = await runCli(command, { socketDir: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`no livetrace agent answers in process ${plain.pid} \\[LT_NO_AGENT\\]`));
    }
    await plain.kill();
  });

  it('refuses run without a pattern or with a command that does not exist', async () => {
    const none = await cli(['run', '--', process.execPath, '-e', '0']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/\[LT_PATTERN_EMPTY\]/);
    const missing = await cli(['run', '-t', 'lib/users:findUser', '--', 'no-such-command-here']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot start 'no-such-command-here': ENOENT \[LT_RUN_NOT_STARTED\]/);
  });
});

describe('a reader that closes the pipe', () => {
  // `livetrace --help | head -1`: the reader is gone before the CLI writes. The read end is
  // closed before the child starts writing, so every write of it meets EPIPE.
  for (const args of [['--help'], ['ps'], ['ls', '--help']]) {
    it(`livetrace ${args.join(' ')} ends quietly, status 0, no stack`, async () => {
      const child = spawn(process.execPath, [cliPath, ...args], { env: cliEnv(socketDir), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }, 20_000);
  }
});
