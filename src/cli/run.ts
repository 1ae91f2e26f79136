/**
 * `livetrace run [trace options] -t <pattern>... -- <command...>`: start a program with
 * the agent preloaded and trace it from its first line.
 *
 * How the session gets in before the program's code runs (the claim):
 *   1. The CLI makes a random token and starts the command with NODE_OPTIONS gaining
 *      `--import <livetrace>/dist/esm/register.js` (appended to any NODE_OPTIONS
 *      already set) and LIVETRACE_RUN = JSON {token, patterns, options}.
 *   2. In every Node process of the command, the preload starts the session at once,
 *      before the main module, with `waitForModules` so its patterns hook modules as they
 *      load; its records wait in the session's bounded queue (src/agent/session/run-session.ts).
 *   3. The CLI watches the socket directory for agents that were not there before the
 *      command started (the command's own process first), connects, and sends
 *      `claim {token}`; the agent hands the waiting session over and streams it from its
 *      first record. An agent without that token answers LT_SESSION_UNKNOWN and is left
 *      alone. A session nobody claims stops by itself after 5 s.
 *
 * The program's stdio is inherited (it runs as it would); events go to stdout, or to
 * --output. Each session ends by its limits or when its process exits; the CLI waits for
 * the command and exits with its exit status (128 + signal number when a signal ended it).
 * SIGTERM and SIGHUP sent to the CLI are passed on to the command; Ctrl-C reaches the
 * command from the terminal by itself, so the CLI only waits for it.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { TraceOptions } from '../protocol/options.js';
import { RUN_ENV, pidOfRunSpool, runSpoolName, runSpoolPrefix, type RunRequest } from '../protocol/run-request.js';
import { agentEntry } from '../attach/bootstrap.js';
import type { AgentClient } from '../client/client.js';
import { connect } from '../client/connect.js';
import { processState } from '../client/process.js';
import type { ClientSession } from '../client/session.js';
import { LivetraceError, isLivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { SessionRecord, StoppedRecord } from '../protocol/events.js';
import { pidOfSocket, socketDir } from '../protocol/socket-path.js';
import { checkSocketDir } from '../protocol/socket-dir.js';
import { parsePattern } from '../pattern/text.js';
import { styleFor } from './format/style.js';
import { formatError } from './report.js';
import { Screen, openOutput } from './screen.js';
import { TraceConsole } from './trace-console.js';
import { addTraceOptions, formatOf, traceOptionsOf, type TraceCommandOptions } from './trace-options.js';

/** How often the socket directory is looked at for the command's agents. */
const SCAN_MS = 20;
/** After this long without an agent, the user is told why nothing is traced. */
const QUIET_MS = 3000;
/** Once the command exited, sessions of processes it left behind get this long. */
const LINGER_MS = 1000;

interface RunArgs extends TraceCommandOptions {
  trace: string[];
}

export function register(program: Command): void {
  const command = program
    .command('run')
    .description('Run a command with the agent preloaded and trace it from its first line')
    .argument('<command...>', 'the program and its arguments, after --')
    .option('-t, --trace <pattern>', 'a pattern to trace (repeatable)', collectPattern, [])
    .usage("[trace options] -t <pattern>... -- <command...>");
  addTraceOptions(command).addHelpText(
    'after',
    [
      '',
      "Example: livetrace run -t 'src/users:findUser(nil, ...) -> stack' --max 5 -- node app.js",
      'The command inherits stdin, stdout and stderr; events go to stdout (or --output).',
      "livetrace exits with the command's exit status.",
    ].join('\n'),
  );
  command.action(async (argv: string[], options: RunArgs) => {
    process.exitCode = await runCommand(argv, options);
  });
}

async function runCommand(argv: string[], options: RunArgs): Promise<number> {
  if (options.trace.length === 0) {
    throw new LivetraceError('LT_PATTERN_EMPTY', 'livetrace run needs at least one -t <pattern>', { input: '' });
  }
  const traceOptions = traceOptionsOf(options);
  for (const pattern of options.trace) parsePattern(pattern);
  const output = openOutput(options.output);
  const screen = new Screen(output.stream, process.stderr);
  const view = new TraceConsole({ format: formatOf(options), screen, style: styleFor(output.stream), drained: () => output.drained() });
  try {
    const run = launch(argv, options.trace, traceOptions, view, { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals): void => void run.child.kill(signal);
    // Ctrl-C goes to the whole foreground group, the command included: just wait for it.
    const ignore = (): void => {};
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    process.on('SIGINT', ignore);
    try {
      const status = await run.exited;
      await run.traced;
      return run.failure?.exitCode ?? status;
    } finally {
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      process.off('SIGINT', ignore);
    }
  } finally {
    view.close();
    output.close();
  }
}

export interface LaunchOptions {
  stdio: StdioOptions;
  cwd?: string;
  /** Extra environment for the command. */
  env?: NodeJS.ProcessEnv;
}

/** A command started under `run` and the sessions claimed in it. */
export interface Launch {
  child: ChildProcess;
  /** The command's exit status (128 + signal number when a signal ended it). */
  exited: Promise<number>;
  /** Resolves when every claimed session has ended and been summarized. */
  traced: Promise<void>;
  /** The first error that made livetrace give up on the command (it was then terminated). */
  readonly failure: LivetraceError | undefined;
  /** Resolves when the first session is claimed. */
  claimed: Promise<void>;
  /** Stops every claimed session now (their summaries follow through `traced`). */
  stop(): Promise<void>;
}

/**
 * Starts `argv` with the preload and the run session in its environment, then claims
 * the session in every new agent until the command exits. Records go to `view`.
 */
export function launch(argv: string[], patterns: string[], options: TraceOptions, view: TraceConsole, launchOptions: LaunchOptions): Launch {
  const [file, ...args] = argv;
  if (file === undefined) throw new LivetraceError('LT_RUN_NOT_STARTED', 'no command given after --', { input: '' });
  const token = randomBytes(24).toString('hex');
  const request: RunRequest = { token, patterns, options };
  const env = runEnvironment({ ...process.env, ...launchOptions.env }, request);
  const dir = socketDir(env);
  const before = new Set(socketPids(dir));
  const child = spawn(file, args, { stdio: launchOptions.stdio, env, ...(launchOptions.cwd === undefined ? {} : { cwd: launchOptions.cwd }) });
  const claims = new Claims(child, token, dir, before, view);
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      claims.end();
      reject(
        new LivetraceError('LT_RUN_NOT_STARTED', `cannot start '${file}': ${error.code ?? error.message}`, { input: argv.join(' '), cause: error }),
      );
    });
    child.once('exit', (code, signal) => {
      claims.childExited();
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
  // A spawn failure rejects `exited`; whoever awaits it sees the error.
  exited.catch(() => undefined);
  return {
    child,
    exited,
    traced: claims.done,
    claimed: claims.first,
    get failure() {
      return claims.failure;
    },
    stop: () => claims.stopAll(),
  };
}

/** The command's environment: the preload appended to NODE_OPTIONS, and the run session. */
export function runEnvironment(env: NodeJS.ProcessEnv, request: RunRequest): NodeJS.ProcessEnv {
  const register = join(agentEntry().root, 'dist', 'esm', 'register.js');
  // NODE_OPTIONS splits on spaces and understands double quotes with backslash escapes.
  const preload = `--import ${/[\s"\\]/.test(register) ? JSON.stringify(register) : register}`;
  const existing = env.NODE_OPTIONS?.trim() ?? '';
  return {
    ...env,
    NODE_OPTIONS: existing === '' ? preload : `${existing} ${preload}`,
    [RUN_ENV]: JSON.stringify(request),
  };
}

function socketPids(dir: string): number[] {
  try {
    return readdirSync(dir).flatMap((name) => {
      const pid = pidOfSocket(name);
      return pid === undefined ? [] : [pid];
    });
  } catch {
    return [];
  }
}

/**
 * Finds and claims the run sessions of the command's processes, and follows each until
 * it ends. The command's own process is tried first; then any agent whose socket
 * appeared after the command started (its child processes inherit the session).
 */
class Claims {
  readonly done: Promise<void>;
  readonly first: Promise<void>;
  failure: LivetraceError | undefined;
  private readonly child: ChildProcess;
  private readonly token: string;
  private readonly dir: string;
  private readonly view: TraceConsole;
  /** Pids already claimed, or found not to hold our session. */
  private readonly settled: Set<number>;
  private readonly sessions = new Set<ClientSession>();
  /** Pids whose claimed session is being followed: their spool file is read when it ends. */
  private readonly live = new Set<number>();
  /** Names this run's spool files begin with (protocol/run-request.ts). */
  private readonly spoolPrefix: string;
  private claimed = 0;
  private readonly following = new Set<Promise<void>>();
  private readonly startedAt = Date.now();
  private scanning: NodeJS.Timeout | undefined;
  /** The scan in progress, so that scans never overlap. */
  private current: Promise<void> | undefined;
  private warned = false;
  private finish!: () => void;
  private claimedFirst!: () => void;

  constructor(child: ChildProcess, token: string, dir: string, before: Set<number>, view: TraceConsole) {
    this.child = child;
    this.token = token;
    this.dir = dir;
    this.view = view;
    this.settled = new Set(before);
    this.spoolPrefix = runSpoolPrefix(token);
    // A stale socket file of an earlier process with the same pid must not hide the command.
    if (child.pid !== undefined) this.settled.delete(child.pid);
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.first = new Promise((resolve) => (this.claimedFirst = resolve));
    this.scanning = setInterval(() => void this.scan(), SCAN_MS);
  }

  /** The command exited: claim what can still be claimed, then let stragglers go. */
  childExited(): void {
    void this.scan().then(() => {
      this.end();
      if (this.claimed === 0 && !this.warned && this.failure === undefined) {
        this.view.say('livetrace: the command exited before any livetrace session was claimed in it (no Node.js process with the agent?)');
      }
      const linger = setTimeout(() => void this.stopAll(), LINGER_MS);
      linger.unref();
      void this.settle();
    });
  }

  /** Stops looking for new agents. */
  end(): void {
    if (this.scanning !== undefined) clearInterval(this.scanning);
    this.scanning = undefined;
    if (this.following.size === 0) this.finish();
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => session.stop().catch(() => undefined)));
  }

  private async settle(): Promise<void> {
    while (this.following.size > 0) await Promise.all([...this.following]);
    this.replaySpools();
    this.finish();
  }

  private scan(): Promise<void> {
    this.current ??= this.scanOnce().finally(() => (this.current = undefined));
    return this.current;
  }

  private async scanOnce(): Promise<void> {
    const pids = [this.child.pid ?? 0, ...socketPids(this.dir)].filter((pid) => pid > 0 && !this.settled.has(pid));
    for (const pid of new Set(pids)) await this.tryClaim(pid);
    this.replaySpools();
    if (!this.warned && this.claimed === 0 && Date.now() - this.startedAt > QUIET_MS && this.scanning !== undefined) {
      this.warned = true;
      this.view.say('livetrace: no livetrace agent has answered in the command yet (is it a Node.js program that honours NODE_OPTIONS?)');
    }
  }

  private async tryClaim(pid: number): Promise<void> {
    if (processState(pid) === 'gone') {
      this.settled.add(pid);
      return;
    }
    let client: AgentClient;
    try {
      client = await connect(pid, { socketDir: this.dir, timeoutMs: 1000 });
    } catch {
      // Not listening yet (or not an agent we can use): look again next time.
      return;
    }
    this.settled.add(pid);
    try {
      const session = await client.claim(this.token);
      this.claimed++;
      this.claimedFirst();
      this.sessions.add(session);
      this.live.add(pid);
      const following = this.view.follow(session, { holdMadeUp: true }).then(
        (stopped) => this.ended(client, session, stopped),
        (error: unknown) => this.view.say(formatError(toLivetraceError(error))),
      );
      this.following.add(following);
      void following.finally(() => this.following.delete(following));
    } catch (error) {
      await client.close();
      if (isLivetraceError(error) && error.code === 'LT_SESSION_UNKNOWN') return;
      const lt = toLivetraceError(error);
      this.view.say(formatError(lt));
      if (pid === this.child.pid && this.failure === undefined) {
        // The session could not start in the command itself: do not let it run untraced.
        this.failure = lt;
        this.child.kill('SIGTERM');
      }
    }
  }

  private async ended(client: AgentClient, session: ClientSession, stopped: StoppedRecord): Promise<void> {
    let last = stopped;
    // The connection closed before the agent sent its end: the process exited with
    // records unsent, and left them in its spool file (run-session.ts).
    if (session.synthetic) {
      const spooled = this.replaySpool(session.pid, runSpoolName(this.spoolPrefix, session.pid));
      if (spooled === undefined) this.view.record(stopped);
      last = spooled ?? stopped;
    }
    this.live.delete(session.pid);
    this.view.summarize(last);
    this.sessions.delete(session);
    await client.close();
  }

  /**
   * Replays the spool files of this run's processes that exited before their session
   * could be claimed (or read to its end): each is printed as that process's session.
   */
  private replaySpools(): void {
    let names: string[];
    try {
      // Only from a directory that passes the trust check: anyone else could plant records.
      if (!checkSocketDir(this.dir)) return;
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = pidOfRunSpool(this.spoolPrefix, name);
      if (pid === undefined || this.live.has(pid)) continue;
      this.settled.add(pid);
      const stopped = this.replaySpool(pid, name);
      if (stopped === undefined) continue;
      this.claimed++;
      this.claimedFirst();
      this.view.summarize(stopped);
    }
  }

  /** Prints one spool file's records and removes it; its 'stopped' record, if it was there. */
  private replaySpool(pid: number, name: string): StoppedRecord | undefined {
    const file = join(this.dir, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
      unlinkSync(file);
    } catch {
      return undefined;
    }
    const records: SessionRecord[] = [];
    for (const line of text.split('\n')) {
      if (line === '') continue;
      try {
        const record = JSON.parse(line) as SessionRecord;
        if (record.pid === pid) records.push(record);
      } catch {
        // A line cut short: the rest of the file still counts.
      }
    }
    return this.view.replay(records);
  }
}

function collectPattern(value: string, previous: string[]): string[] {
  return [...previous, value];
}
