/**
 * `livetrace info <pid>`: what a process is doing, observer's process view. Several
 * processes (`4242,4243`, `--children`, `--match`) print one block each (JSON: an array). It attaches
 * as `trace` does. Interval figures (CPU %, GC, loop utilization and delay) need two
 * readings: the first request starts the agent's sampling, the second, one interval later,
 * reports. `--watch` keeps reading every interval until Ctrl-C; the sampling stops in the
 * target as soon as this command's connection closes.
 */
import type { Command } from 'commander';
import type { AgentClient } from '../client/client.js';
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { ProcessInfo } from '../protocol/observer.js';
import { parsePidList, resolveTargets } from '../client/targets.js';
import { formatError } from './report.js';
import { renderInfo } from './format/info.js';
import { openAgent, parsePid } from './agent-connection.js';
import { onInterrupt } from './interrupt.js';

interface InfoOptions {
  json?: boolean;
  watch?: string | true;
  interval: string;
  attach: boolean;
  children?: boolean;
  match?: string;
}

/** Watch interval unless given, ms. */
const DEFAULT_WATCH_MS = 2000;

/** '2', '2s', '500ms' -> ms; 100 ms .. 1 h. */
export function parseInterval(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  const value = match === null ? NaN : Number(match[1]) * (match[2] === 'ms' ? 1 : 1000);
  if (!Number.isFinite(value) || value < 100 || value > 3_600_000) {
    throw new LivetraceError('LT_OPTION_INVALID', `${flag} must be a duration from 100ms to 1h ('2s', '500ms', '2'), not '${text}'`, {
      input: text,
    });
  }
  return value;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('Show what processes are doing: CPU, memory, GC, event loop, handles, modules')
    .argument('[pid]', 'process id, or several separated by commas (4242,4243); left out with --match')
    .option('--json', 'print JSON (with --watch, one object per line; several processes: an array, or one object per process and line)')
    .option('--watch [interval]', `print a new snapshot every interval (default ${DEFAULT_WATCH_MS / 1000}s) until Ctrl-C`)
    .option('--interval <duration>', 'how long the CPU, GC and event loop figures of one snapshot cover', '1s')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .option('--children', 'also every Node process below the given ones (a cluster primary and its workers)')
    .option('--match <glob>', "every Node process whose command line matches ('*' any text, '?' one character)")
    .action(async (target: string | undefined, options: InfoOptions) => {
      const watchMs = options.watch === undefined ? undefined : options.watch === true ? DEFAULT_WATCH_MS : parseInterval(options.watch, '--watch');
      const intervalMs = watchMs ?? parseInterval(options.interval, '--interval');
      if (target === undefined && options.match === undefined) {
        throw new LivetraceError('LT_PID_NOT_FOUND', 'no process given: livetrace info <pid>, or --match <glob>', { input: '' });
      }
      const named = target === undefined ? [] : target.includes(',') ? parsePidList(target) : [parsePid(target)];
      const several = named.length !== 1 || options.children === true || options.match !== undefined;
      const pids = several ? await resolveTargets({ pids: named, children: options.children, match: options.match }) : named;
      const say = (text: string): void => void process.stderr.write(`${text}\n`);
      const clients: AgentClient[] = [];
      try {
        const opened = await Promise.allSettled(pids.map((pid) => openAgent(pid, { attach: options.attach, say })));
        let firstError: unknown;
        opened.forEach((result, index) => {
          if (result.status === 'fulfilled') clients.push(result.value);
          else if (!several) throw result.reason;
          else {
            firstError ??= result.reason;
            say(`process ${pids[index]}: ${formatError(toLivetraceError(result.reason))}`);
          }
        });
        if (clients.length === 0) throw firstError;
        await watch(clients, intervalMs, watchMs !== undefined, (infos) => {
          if (!several) {
            const info = infos[0]!;
            process.stdout.write(options.json === true ? `${JSON.stringify(info, null, watchMs === undefined ? 2 : undefined)}\n` : `${renderInfo(info)}${watchMs === undefined ? '' : '\n'}`);
          } else if (options.json === true) {
            process.stdout.write(watchMs === undefined ? `${JSON.stringify(infos, null, 2)}\n` : infos.map((info) => `${JSON.stringify(info)}\n`).join(''));
          } else {
            process.stdout.write(infos.map((info) => renderInfo(info)).join('\n') + (watchMs === undefined ? '' : '\n'));
          }
        });
      } finally {
        await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
      }
    });
}

/** Reads every client's info (those whose process is gone are left out, and said so), once or every interval. */
async function watch(clients: AgentClient[], intervalMs: number, repeat: boolean, show: (infos: ProcessInfo[]) => void): Promise<void> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const release = onInterrupt(() => {
    stopped = true;
    wake?.();
  });
  try {
    const live = new Set(clients);
    const read = async (): Promise<ProcessInfo[]> => {
      const results = await Promise.allSettled([...live].map(async (client) => ({ client, info: await client.info() })));
      const infos: ProcessInfo[] = [];
      for (const result of results) {
        if (result.status === 'fulfilled') infos.push(result.value.info);
        else if (clients.length === 1) throw result.reason;
      }
      for (const client of [...live]) {
        if (client.closed) {
          live.delete(client);
          process.stderr.write(`process ${client.pid} is gone\n`);
        }
      }
      if (live.size === 0) throw results.find((r) => r.status === 'rejected')?.reason;
      return infos;
    };
    await read();
    do {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
      if (stopped) return;
      show(await read());
    } while (repeat && !stopped);
  } finally {
    release();
  }
}
