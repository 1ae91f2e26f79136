/**
 * Which processes a multi-target command means: `4242,4243` (pids as given), `--children`
 * (each given process and every Node process below it, which is how a cluster primary and
 * its workers, or a supervisor and its replicas, are named at once), and `--match '<glob>'`
 * (every Node process of this user whose command line matches).
 *
 * All of it is read from /proc, like the process list (processes.ts): naming targets
 * touches none of them. The tree is built from every process's ppid, not only Node's, so a
 * worker started through a shell (`sh -c 'node worker.js'`) is still a descendant; only
 * Node processes are kept at the end.
 *
 * `--match` compares against the command line as `ps` shows it (argv joined by spaces),
 * with shell-style wildcards: `*` is any run of characters, `/` and spaces included, `?` one
 * character. The CLI itself and its ancestors are never matched: their command lines hold
 * the glob (`livetrace trace --match '*server*'`), and an `npx` wrapper would match too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { LivetraceError } from '../protocol/errors.js';
import { listNodeProcesses, readNodeProcess } from './processes.js';

export interface TargetSelection {
  /** Pids named on the command line. */
  pids: number[];
  /** Add each named pid's descendants. */
  children?: boolean;
  /** Add every Node process whose command line matches this glob. */
  match?: string;
}

/** Parses '4242' or '4242,4243, 4244' into pids; LT_PID_NOT_FOUND names the bad one. */
export function parsePidList(text: string): number[] {
  const pids: number[] = [];
  for (const part of text.split(',')) {
    const item = part.trim();
    const pid = /^\d+$/.test(item) ? Number(item) : NaN;
    if (!Number.isSafeInteger(pid) || pid < 1 || pid > 2 ** 31 - 1) {
      throw new LivetraceError('LT_PID_NOT_FOUND', `'${item}' is not a process id (in '${text}')`, { input: text });
    }
    if (!pids.includes(pid)) pids.push(pid);
  }
  return pids;
}

/** A shell-style glob as a whole-string regex: '*' any run (spaces and '/' too), '?' one character. */
export function commandLineGlob(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '[\\s\\S]*';
    else if (char === '?') source += '[\\s\\S]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Every process's parent, from /proc/<pid>/stat (processes we cannot read are left out). */
export function readParents(): Map<number, number> {
  const parents = new Map<number, number>();
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return parents;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(name), ppid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return parents;
}

/** `root` and every process below it, root first, then breadth first. */
export function descendantsOf(root: number, parents: Map<number, number>): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [pid]);
    else list.push(pid);
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const child of (children.get(out[i]!) ?? []).sort((a, b) => a - b)) if (!out.includes(child)) out.push(child);
  }
  return out;
}

/** This process and its ancestors: never a target of --match. */
function selfAndAncestors(parents: Map<number, number>): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    pid = parents.get(pid) ?? 0;
  }
  return out;
}

/**
 * The pids a selection names, in a stable order (named pids first, then what --children
 * and --match added). A named pid is kept as it is (connecting to it says what is wrong with
 * it); added ones are Node processes of this user. Throws LT_PID_NOT_FOUND when --match
 * or --children leaves nothing.
 */
export async function resolveTargets(selection: TargetSelection): Promise<number[]> {
  const pids: number[] = [];
  const add = (pid: number): void => {
    if (!pids.includes(pid)) pids.push(pid);
  };
  const parents = selection.children === true || selection.match !== undefined ? readParents() : new Map<number, number>();
  for (const pid of selection.pids) {
    add(pid);
    if (selection.children !== true) continue;
    for (const below of descendantsOf(pid, parents).slice(1)) if (readNodeProcess(below) !== undefined) add(below);
  }
  if (selection.match !== undefined) {
    const glob = commandLineGlob(selection.match);
    const excluded = selfAndAncestors(parents);
    const matched = (await listNodeProcesses()).filter((p) => !excluded.has(p.pid) && glob.test(p.argv.join(' ')));
    if (matched.length === 0) {
      throw new LivetraceError('LT_PID_NOT_FOUND', `no Node process of this user has a command line matching '${selection.match}'`, {
        input: selection.match,
      });
    }
    for (const p of matched) {
      add(p.pid);
      if (selection.children === true) for (const below of descendantsOf(p.pid, parents).slice(1)) if (readNodeProcess(below) !== undefined) add(below);
    }
  }
  return pids;
}
