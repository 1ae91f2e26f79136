/**
 * `livetrace info <pid>`: what a process is doing, observer's process view. It attaches
 * as `trace` does. Interval figures (CPU %, GC, loop utilization and delay) need two
 * readings: the first request starts the agent's sampling, the second, one interval later,
 * reports. `--watch` keeps reading every interval until Ctrl-C; the sampling stops in the
 * target as soon as this command's connection closes.
 */
import type { Command } from 'commander';
import type { AgentClient } from '../client/client.js';
import { LivetraceError } from '../protocol/errors.js';
import { renderInfo } from './format/info.js';
import { openAgent, parsePid } from './agent-connection.js';
import { onInterrupt } from './interrupt.js';

interface InfoOptions {
  json?: boolean;
  watch?: string | true;
  interval: string;
  attach: boolean;
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
    .description('Show what a process is doing: CPU, memory, GC, event loop, handles, modules')
    .argument('<pid>', 'process id', parsePid)
    .option('--json', 'print JSON (with --watch, one object per line)')
    .option('--watch [interval]', `print a new snapshot every interval (default ${DEFAULT_WATCH_MS / 1000}s) until Ctrl-C`)
    .option('--interval <duration>', 'how long the CPU, GC and event loop figures of one snapshot cover', '1s')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .action(async (pid: number, options: InfoOptions) => {
      const watchMs = options.watch === undefined ? undefined : options.watch === true ? DEFAULT_WATCH_MS : parseInterval(options.watch, '--watch');
      const intervalMs = watchMs ?? parseInterval(options.interval, '--interval');
      const client = await openAgent(pid, { attach: options.attach, say: (text) => process.stderr.write(`${text}\n`) });
      try {
        await watch(client, intervalMs, watchMs !== undefined, (info) => {
          process.stdout.write(options.json === true ? `${JSON.stringify(info, null, watchMs === undefined ? 2 : undefined)}\n` : `${renderInfo(info)}${watchMs === undefined ? '' : '\n'}`);
        });
      } finally {
        await client.close();
      }
    });
}

async function watch(client: AgentClient, intervalMs: number, repeat: boolean, show: (info: Awaited<ReturnType<AgentClient['info']>>) => void): Promise<void> {
  let stopped = false;
  let wake: (() => void) | undefined;
  const release = onInterrupt(() => {
    stopped = true;
    wake?.();
  });
  try {
    await client.info();
    do {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, intervalMs);
      });
      if (stopped) return;
      show(await client.info());
    } while (repeat && !stopped);
  } finally {
    release();
  }
}
