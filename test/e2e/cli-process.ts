/**
 * The real CLI (`node bin/livetrace.js`, from dist/: run `npm run build` first) as a
 * child process the e2e tests can read line by line, write commands to, signal and kill.
 * Every CLI started here is tracked; `killClis()` (afterEach) kills those still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/paths.js';
import { Output } from '../support/process.js';

export const cliPath = join(repoRoot, 'bin/livetrace.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in everything the stream printed so far or later. */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Writes to the CLI's stdin (started with stdin: 'pipe'). */
  send(text: string): void;
  done: Promise<CliResult>;
}

export interface CliOptions {
  /** LIVETRACE_SOCKET_DIR for the CLI: the one of the app under test. */
  socketDir: string;
  /** 'ignore' gives the CLI /dev/null, as `</dev/null` in a script; default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
  env?: Record<string, string>;
  cwd?: string;
}

const running = new Set<ChildProcess>();

export function cliEnv(socketDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LIVETRACE_SOCKET_DIR: socketDir, ...extra };
  // The test runner's own NODE_OPTIONS (if any) are not the user's.
  if (extra.NODE_OPTIONS === undefined) delete env.NODE_OPTIONS;
  return env;
}

export function startCli(args: string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: cliEnv(options.socketDir, options.env),
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const name = `livetrace ${args.join(' ')}`;
  const output: Record<'stdout' | 'stderr', Output> = {
    stdout: new Output(`stdout of ${name}`, () => `stderr: ${output.stderr.tail()}`),
    stderr: new Output(`stderr of ${name}`, () => `stdout: ${output.stdout.tail()}`),
  };
  output.stdout.read(child.stdout!);
  output.stderr.read(child.stderr!);
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout: output.stdout.text, stderr: output.stderr.text });
    });
  });
  return {
    child,
    stdout: () => output.stdout.text,
    stderr: () => output.stderr.text,
    waitFor: (stream, pattern, timeoutMs) => output[stream].waitFor(pattern, { timeoutMs }),
    send: (input) => void child.stdin!.write(input),
    done,
  };
}

/** Runs the CLI to its end; rejects (after killing it) if it runs longer than `timeoutMs`. */
export async function runCli(args: string[], options: CliOptions & { timeoutMs?: number }): Promise<CliResult> {
  const cli = startCli(args, options);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cli.child.kill('SIGKILL');
      reject(new Error(`livetrace ${args.join(' ')} did not exit within ${options.timeoutMs ?? 15_000} ms\n${describe({ stdout: cli.stdout(), stderr: cli.stderr() })}`));
    }, options.timeoutMs ?? 15_000);
  });
  try {
    return await Promise.race([cli.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every CLI still running (afterEach). */
export async function killClis(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** The lines of `text` that `pattern` matches. */
export function linesMatching(text: string, pattern: RegExp): string[] {
  return text.split('\n').filter((line) => pattern.test(line));
}

function describe(text: { stdout: string; stderr: string }): string {
  return `stdout: ${text.stdout.slice(-2000)}\nstderr: ${text.stderr.slice(-2000)}`;
}
