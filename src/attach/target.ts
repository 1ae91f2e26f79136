/**
 * The process to attach to, as seen from outside: does it exist, may we signal it, is it
 * Node, and what will SIGUSR1 do to it.
 *
 * SIGUSR1's default action is to terminate. Node installs a handler for it at startup
 * (that handler opens the inspector), unless it runs with --disable-sigusr1; an app that
 * once listened for SIGUSR1 and removed its listener also leaves the default action
 * behind. So before signalling we ask the kernel, not the command line: on Linux
 * /proc/<pid>/status lists the caught (SigCgt) and ignored (SigIgn) signals, and a Node
 * process that does not catch SIGUSR1 is refused rather than killed. The command line
 * and NODE_OPTIONS are read too (when /proc lets us), for the message and for the
 * inspector's host and port.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import { dispositionOf, looksLikeNode, splitNul, type SignalDisposition } from '../client/processes.js';
import { LivetraceError } from '../protocol/errors.js';
import { readLaunchOptions, type NodeLaunchOptions } from './node-options.js';

export { dispositionOf, looksLikeNode, type SignalDisposition };

export interface TargetProcess {
  pid: number;
  /** The executable, when the OS tells us. */
  exe: string | undefined;
  /** The command line as the process shows it now (process.title may have rewritten it). */
  argv: string[];
  /** The variables of the target's initial environment that livetrace cares about, when readable. */
  env: TargetEnv | undefined;
  sigusr1: SignalDisposition;
  launch: NodeLaunchOptions;
}

export interface TargetEnv {
  NODE_OPTIONS?: string;
  LIVETRACE_SOCKET_DIR?: string;
  XDG_RUNTIME_DIR?: string;
}

const procAvailable = process.platform === 'linux';

/** Checks that `pid` is a live Node process we may signal, and reads what attach needs to know. */
export async function inspectTarget(pid: number): Promise<TargetProcess> {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    // kill() with 0 or a negative pid signals whole process groups: never let one through.
    throw new LivetraceError('LT_PID_NOT_FOUND', `${String(pid)} is not a process id`, { input: pid });
  }
  if (pid === process.pid) {
    throw new LivetraceError('LT_ATTACH_FAILED', 'livetrace cannot attach to its own process', {
      input: pid,
      hint: "Inside the process itself, use startAgent() from 'livetrace'.",
    });
  }
  checkSignalRights(pid);
  const target = procAvailable ? await fromProc(pid) : await fromPs(pid);
  if (!looksLikeNode(target)) {
    throw new LivetraceError('LT_PID_NOT_NODE', `process ${pid} is not a Node.js process (${target.exe ?? target.argv[0] ?? 'unknown executable'})`, {
      input: pid,
    });
  }
  return target;
}

function checkSignalRights(pid: number): void {
  try {
    process.kill(pid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') throw new LivetraceError('LT_PID_NOT_FOUND', `no process with pid ${pid}`, { input: pid });
    if (code === 'EPERM') {
      throw new LivetraceError('LT_PID_OTHER_USER', `process ${pid} belongs to another user`, { input: pid });
    }
    throw error;
  }
}

async function fromProc(pid: number): Promise<TargetProcess> {
  const dir = `/proc/${pid}`;
  let status: string;
  try {
    status = await readFile(`${dir}/status`, 'utf8');
  } catch {
    throw new LivetraceError('LT_PID_NOT_FOUND', `process ${pid} has exited`, { input: pid });
  }
  if (/^State:\s*[ZX]/m.test(status)) {
    throw new LivetraceError('LT_PID_NOT_FOUND', `process ${pid} has exited`, { input: pid });
  }
  refuseOtherUid(pid, status);
  const [exe, cmdline, environ] = await Promise.all([
    readlink(`${dir}/exe`).then((path) => path.replace(/ \(deleted\)$/, ''), () => undefined),
    readFile(`${dir}/cmdline`, 'utf8').catch(() => ''),
    readFile(`${dir}/environ`, 'utf8').catch(() => undefined),
  ]);
  const argv = splitNul(cmdline);
  const env = environ === undefined ? undefined : pickEnv(splitNul(environ));
  return {
    pid,
    exe,
    argv,
    env,
    sigusr1: dispositionOf(status, 10),
    launch: readLaunchOptions(argv, env?.NODE_OPTIONS),
  };
}

/**
 * Root may signal anyone, but the agent would then listen in the target user's socket
 * directory, which the client rightly refuses to trust; and livetrace never crosses a
 * user boundary. So a target whose effective uid differs from ours is refused too.
 */
function refuseOtherUid(pid: number, status: string): void {
  const match = /^Uid:\s*\d+\s+(\d+)/m.exec(status);
  const ours = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  if (match?.[1] === undefined || ours === undefined || Number(match[1]) === ours) return;
  throw new LivetraceError('LT_PID_OTHER_USER', `process ${pid} runs as uid ${match[1]}, livetrace as uid ${ours}`, {
    input: pid,
    hint: `Run livetrace as the user that owns the process (e.g. sudo -u '#${match[1]}' livetrace ...).`,
  });
}


function pickEnv(entries: string[]): TargetEnv {
  const env: TargetEnv = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    if (name === 'NODE_OPTIONS' || name === 'LIVETRACE_SOCKET_DIR' || name === 'XDG_RUNTIME_DIR') {
      env[name] = entry.slice(eq + 1);
    }
  }
  return env;
}


// Without /proc (macOS, BSD) `ps` still names the executable and shows the command line;
// the signal disposition stays unknown.
async function fromPs(pid: number): Promise<TargetProcess> {
  const run = (field: string): Promise<string> =>
    new Promise((resolve) => {
      execFile('ps', ['-o', `${field}=`, '-p', String(pid)], { timeout: 2000 }, (error, stdout) => {
        resolve(error ? '' : stdout.trim());
      });
    });
  const [comm, args] = await Promise.all([run('comm'), run('args')]);
  if (comm === '') throw new LivetraceError('LT_PID_NOT_FOUND', `process ${pid} has exited`, { input: pid });
  const argv = args.split(/\s+/).filter(Boolean);
  return { pid, exe: comm, argv, env: undefined, sigusr1: 'unknown', launch: readLaunchOptions(argv, undefined) };
}


