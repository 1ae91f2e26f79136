/**
 * One round of `livetrace top`: every Node process of this user with its CPU over a
 * window, and, for those that already have an agent, heap and loop figures from a light
 * `info`. A process without an agent is only read from /proc: top never attaches (observer
 * opens a process only when the operator asks for it).
 *
 * CPU % comes from two readings of /proc/<pid>/stat `windowMs` apart (its granularity is
 * the kernel's 10 ms tick: 1% over a 1 s window). The agents are asked during the same
 * window: a first light info starts their sampling, the second one, after the window,
 * reports loop utilization and delay over it; closing the connection stops the sampling.
 */
import { basename } from 'node:path';
import type { ProcessInfo } from '../protocol/observer.js';
import type { AgentClient } from './client.js';
import { connect } from './connect.js';
import type { DiscoverOptions } from './discover.js';
import { listNodeProcesses, readNodeProcess, type NodeProcess } from './processes.js';

export interface TopOptions extends DiscoverOptions {
  /** The CPU window, ms (default 1000). */
  windowMs?: number;
}

export interface TopEntry {
  pid: number;
  /** The script (argv[1]'s base name), or the executable's when there is none. */
  name: string;
  /** User plus system CPU over the window, % of one core; null when the process ended during it. */
  cpuPercent: number | null;
  rssBytes: number;
  agent: boolean;
  /** From the agent's light info; null without an agent or when it did not answer. */
  heapUsed: number | null;
  heapTotal: number | null;
  loopUtilization: number | null;
  loopDelayP99Ms: number | null;
  sessions: number | null;
  argv: string[];
}

/**
 * The script a command line runs: the first argument after node's own flags. A process that
 * set process.title shows that title as its whole command line (padded with NULs).
 */
export function processName(argvIn: readonly string[]): string {
  const argv = argvIn.filter((arg) => arg !== '');
  if (argv.length === 1 && argv[0]!.includes(' ')) return argv[0]!.slice(0, 40);
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1] === undefined ? 'node' : basename(argv[i + 1]!);
    if (arg.startsWith('-')) {
      // Flags that take the next argument as their value.
      if (/^(-r|--require|--import|--loader|--experimental-loader|-e|--eval|-p|--print)$/.test(arg)) {
        if (arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') return '[eval]';
        i++;
      }
      continue;
    }
    return basename(arg) || arg;
  }
  return argv[0] === undefined ? 'node' : basename(argv[0]);
}

async function lightInfo(client: AgentClient): Promise<ProcessInfo | undefined> {
  try {
    return await client.info({ light: true });
  } catch {
    return undefined;
  }
}

export async function sampleTop(options: TopOptions = {}): Promise<TopEntry[]> {
  const windowMs = options.windowMs ?? 1000;
  const found = await listNodeProcesses(options);
  const startedAt = performance.now();
  const clients = new Map<number, AgentClient>();
  await Promise.all(
    found
      .filter((p) => p.agent !== undefined)
      .map(async (p) => {
        try {
          const client = await connect(p.pid, { ...(options.socketDir === undefined ? {} : { socketDir: options.socketDir }), timeoutMs: 1000 });
          clients.set(p.pid, client);
          await lightInfo(client);
        } catch {
          // An agent that went away between the listing and now is shown without figures.
        }
      }),
  );
  const wait = windowMs - (performance.now() - startedAt);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  const elapsed = performance.now() - startedAt;
  const infos = new Map<number, ProcessInfo>();
  await Promise.all(
    [...clients].map(async ([pid, client]) => {
      const info = await lightInfo(client);
      if (info !== undefined) infos.set(pid, info);
      await client.close();
    }),
  );
  return found.map((p) => entryOf(p, readNodeProcess(p.pid), elapsed, infos.get(p.pid)));
}

function entryOf(first: NodeProcess, second: NodeProcess | undefined, elapsedMs: number, info: ProcessInfo | undefined): TopEntry {
  const argv = first.agent?.argv ?? first.argv;
  return {
    pid: first.pid,
    name: processName(argv),
    cpuPercent: second === undefined ? null : Math.round(((second.cpuMs - first.cpuMs) / elapsedMs) * 1000) / 10,
    rssBytes: second?.rssBytes ?? first.rssBytes,
    agent: first.agent !== undefined,
    heapUsed: info?.memory.heapUsed ?? null,
    heapTotal: info?.memory.heapTotal ?? null,
    loopUtilization: info?.loop.utilization ?? null,
    loopDelayP99Ms: info?.loop.delay?.p99 ?? null,
    sessions: info?.sessions ?? first.agent?.sessions ?? null,
    argv,
  };
}
