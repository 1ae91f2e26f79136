/**
 * The Node processes of this user, as the kernel shows them: for `ps`, `top` and the
 * dashboard's process list, with or without an agent in them.
 *
 * Everything here is read from /proc, never from the processes themselves: listing a
 * machine must not wake, signal or attach to anything (observer's rule: nothing is
 * touched until the operator opens it). A process is Node when its executable is named
 * like node; its command line, memory and CPU times come from cmdline, statm and stat;
 * whether it could be attached comes from its SIGUSR1 disposition (SigCgt in status:
 * a Node that does not catch SIGUSR1 would be killed by the signal, so it is not
 * attachable). Agents are then asked `hello` through their sockets (discover.ts), which
 * is the only conversation a listing has.
 *
 * Without /proc (macOS, BSD) the list holds only the processes that have an agent.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { uptime } from 'node:os';
import { basename } from 'node:path';
import type { AgentHello } from '../protocol/messages.js';
import { discover, type DiscoverOptions } from './discover.js';

export type SignalDisposition = 'caught' | 'ignored' | 'default' | 'unknown';

export interface NodeProcess {
  pid: number;
  ppid: number;
  /** The executable, when the kernel tells us. */
  exe: string | undefined;
  argv: string[];
  /** Resident memory, bytes. */
  rssBytes: number;
  /** User plus system CPU time since the process started, ms. */
  cpuMs: number;
  /** When the process started, ms since the epoch. */
  startedAt: number;
  threads: number;
  sigusr1: SignalDisposition;
  /** The agent's hello, when the process has a livetrace agent that answered. */
  agent?: AgentHello;
  /** 'agent': traceable now; 'attachable': livetrace can load an agent; 'no': it cannot, `reason` says why. */
  reach: 'agent' | 'attachable' | 'no';
  reason?: string;
}

const procAvailable = process.platform === 'linux';
/** /proc reports CPU times in USER_HZ, which is 100 on every Linux ABI. */
const USER_HZ = 100;
const nodeName = /^(node|nodejs|iojs)([-_.]?v?\d+(\.\d+)*)?(\.exe)?$/i;

/** The executable's name decides; the command line only when the executable is hidden from us. */
export function looksLikeNode(target: { exe: string | undefined; argv: string[] }): boolean {
  const name = target.exe ?? target.argv[0];
  return name !== undefined && nodeName.test(basename(name));
}

/** Reads the disposition of signal `signo` from the SigCgt / SigIgn masks of /proc/<pid>/status. */
export function dispositionOf(status: string, signo: number): SignalDisposition {
  const mask = (field: string): bigint | undefined => {
    const match = new RegExp(`^${field}:\\s*([0-9a-fA-F]+)`, 'm').exec(status);
    return match ? BigInt(`0x${match[1]}`) : undefined;
  };
  const caught = mask('SigCgt');
  const ignored = mask('SigIgn');
  if (caught === undefined || ignored === undefined) return 'unknown';
  const bit = 1n << BigInt(signo - 1);
  if (caught & bit) return 'caught';
  if (ignored & bit) return 'ignored';
  return 'default';
}

export function splitNul(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Every Node process of this user (this CLI excluded), each with its agent's hello when it has one. */
export async function listNodeProcesses(options: DiscoverOptions = {}): Promise<NodeProcess[]> {
  const agents = await discover(options);
  const byPid = new Map(agents.map((agent) => [agent.pid, agent]));
  const found = procAvailable ? scanProc() : [];
  const seen = new Set(found.map((p) => p.pid));
  // An agent whose process /proc did not show (no /proc, or hidden by hidepid) still counts.
  for (const agent of agents) {
    if (!seen.has(agent.pid)) {
      found.push({
        pid: agent.pid, ppid: 0, exe: undefined, argv: agent.argv, rssBytes: 0, cpuMs: 0,
        startedAt: Date.now() - agent.uptimeMs, threads: 0, sigusr1: 'unknown', reach: 'agent',
      });
    }
  }
  for (const entry of found) {
    const agent = byPid.get(entry.pid);
    if (agent !== undefined) {
      entry.agent = agent;
      entry.reach = 'agent';
      delete entry.reason;
    }
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** One process's figures from /proc, or undefined when it is gone, not ours, or not Node. */
export function readNodeProcess(pid: number, bootMs = bootTime()): NodeProcess | undefined {
  const dir = `/proc/${pid}`;
  let status: string;
  let stat: string;
  try {
    status = readFileSync(`${dir}/status`, 'utf8');
    stat = readFileSync(`${dir}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const uid = /^Uid:\s*\d+\s+(\d+)/m.exec(status)?.[1];
  const ours = typeof process.geteuid === 'function' ? process.geteuid() : undefined;
  if (uid === undefined || (ours !== undefined && Number(uid) !== ours)) return undefined;
  if (/^State:\s*[ZX]/m.test(status)) return undefined;
  let exe: string | undefined;
  try {
    exe = readlinkSync(`${dir}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    exe = undefined;
  }
  let argv: string[];
  try {
    argv = splitNul(readFileSync(`${dir}/cmdline`, 'utf8'));
  } catch {
    return undefined;
  }
  if (!looksLikeNode({ exe, argv })) return undefined;
  // The command name in stat may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const num = (index: number): number => Number(fields[index] ?? 0);
  const pageSize = 4096;
  const sigusr1 = dispositionOf(status, 10);
  const entry: NodeProcess = {
    pid,
    ppid: num(1),
    exe,
    argv,
    rssBytes: num(21) * pageSize,
    cpuMs: ((num(11) + num(12)) * 1000) / USER_HZ,
    startedAt: bootMs + (num(19) * 1000) / USER_HZ,
    threads: num(17),
    sigusr1,
    reach: sigusr1 === 'caught' ? 'attachable' : 'no',
  };
  if (entry.reach === 'no') {
    entry.reason = sigusr1 === 'unknown' ? 'its signal handlers cannot be read' : 'it does not catch SIGUSR1 (--disable-sigusr1, or a removed listener): the signal would kill it';
  }
  return entry;
}

function scanProc(): NodeProcess[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const boot = bootTime();
  const out: NodeProcess[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const entry = readNodeProcess(pid, boot);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

let cachedBoot: number | undefined;

/** When the machine booted, ms since the epoch (process start times are relative to it). */
function bootTime(): number {
  if (cachedBoot !== undefined) return cachedBoot;
  try {
    const btime = /^btime\s+(\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1];
    if (btime !== undefined) return (cachedBoot = Number(btime) * 1000);
  } catch {
    // fall through: an estimate from uptime
  }
  return (cachedBoot = Date.now() - uptime() * 1000);
}
