/**
 * `livetrace trace` on several processes at once: `4242,4243`, `--children`, `--match`.
 *
 * Each target gets its own session through its own agent (attached when needed), so each
 * enforces its own limits (`--max 20` is 20 calls per process) and ends on its own: a
 * target that exits or reaches its limit is reported on a line of its own and the others go
 * on. The trace ends when every session has. Calls print as they arrive, each line with its
 * pid; `count`/`hist` tables are merged across the targets with the mergeable sketch
 * (client/merge-stats.ts), and `--per-process` prints each target's own table as well.
 *
 * A target that cannot be reached or refuses the session (no agent and --no-attach, a
 * pattern that matches nothing there) is reported and left out; only when no target at all
 * starts does the command fail, with the first target's error.
 */
import { parsePattern } from '../pattern/text.js';
import type { AgentClient } from '../client/client.js';
import type { ClientSession } from '../client/session.js';
import { resolveTargets, type TargetSelection } from '../client/targets.js';
import { toLivetraceError } from '../protocol/errors.js';
import type { AddedRecord, StoppedRecord } from '../protocol/events.js';
import { openAgent } from './agent-connection.js';
import { readCommands } from './command-input.js';
import { renderDeeper } from './deeper.js';
import { describeStop } from './format/pretty.js';
import { styleFor } from './format/style.js';
import { onInterrupt } from './interrupt.js';
import { Screen, openOutput } from './screen.js';
import { TraceConsole, type CommandTarget } from './trace-console.js';
import { onBrokenPipe, targetEnd } from './trace-end.js';
import { formatOf, traceOptionsOf, type TraceCommandOptions } from './trace-options.js';

export interface TargetsArgs extends TraceCommandOptions {
  attach: boolean;
  perProcess?: boolean;
}

interface Traced {
  pid: number;
  client: AgentClient;
  session: ClientSession;
}

export async function traceTargets(selection: TargetSelection, patterns: string[], options: TargetsArgs): Promise<number> {
  const traceOptions = traceOptionsOf(options);
  for (const pattern of patterns) parsePattern(pattern);
  const pids = await resolveTargets(selection);
  const output = openOutput(options.output);
  const screen = new Screen(output.stream, process.stderr, { bytes: true });
  const clients: AgentClient[] = [];
  try {
    const traced = await startAll(pids, patterns, traceOptions, options.attach, screen, clients);
    const view = new TraceConsole({
      format: formatOf(options),
      screen,
      style: styleFor(output.stream),
      drained: () => output.drained(),
      deeper: async (fn) => renderDeeper(await traced[0]!.client.deeper(fn), traced[0]!.pid),
      merge: { perProcess: options.perProcess === true },
    });
    const group = groupOf(traced);
    const input = readCommands(process.stdin, (command) => view.command(command, group));
    const stopAll = (): void => void group.stop().catch(() => undefined);
    const stopOnInterrupt = onInterrupt(stopAll);
    const stopOnBrokenPipe = onBrokenPipe(stopAll);
    try {
      const ends = await Promise.all(
        traced.map(async ({ pid, session }) => {
          const stopped = await targetEnd(pid, await view.follow(session));
          view.say(`process ${pid} ${describeStop(stopped)}`);
          return stopped;
        }),
      );
      view.close();
      view.say(`${traced.length} process${traced.length === 1 ? '' : 'es'} traced, ${summaryOf(ends)}`);
      return ends.some((stopped) => stopped.reason === 'error') ? 1 : 0;
    } finally {
      view.close();
      input.close();
      stopOnInterrupt();
      stopOnBrokenPipe();
    }
  } finally {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    output.close();
  }
}

/** Connects to (or attaches to) every target and starts its session; reports the ones that fail. */
async function startAll(
  pids: number[],
  patterns: string[],
  traceOptions: ReturnType<typeof traceOptionsOf>,
  attach: boolean,
  screen: Screen,
  clients: AgentClient[],
): Promise<Traced[]> {
  const results = await Promise.allSettled(
    pids.map(async (pid): Promise<Traced> => {
      const client = await openAgent(pid, { attach, say: (text) => screen.info(text) });
      clients.push(client);
      return { pid, client, session: await client.trace(patterns, traceOptions) };
    }),
  );
  const traced: Traced[] = [];
  let firstError: unknown;
  results.forEach((result, index) => {
    if (result.status === 'fulfilled') traced.push(result.value);
    else {
      firstError ??= result.reason;
      const error = toLivetraceError(result.reason);
      // One line per target left out: a primary without the traced module is normal.
      screen.info(`process ${pids[index]}: not traced: ${error.message} [${error.code}]`);
    }
  });
  if (traced.length === 0) throw firstError;
  return traced;
}

/** Typed commands act on every session still running: `+pattern` adds to each, `-` stops all. */
function groupOf(traced: Traced[]): CommandTarget {
  const running = (): Traced[] => traced.filter((t) => t.session.stopped === undefined);
  return {
    add: async (patterns: string | string[]): Promise<AddedRecord> => {
      const added = await Promise.all(running().map((t) => t.session.add(patterns)));
      return added[0]!;
    },
    stop: async (): Promise<StoppedRecord> => {
      const stopped = await Promise.all(traced.map((t) => t.session.stop()));
      return stopped[0]!;
    },
  };
}

/** 'ended: 3 max, 1 exit; 1,204 calls, 0 dropped' */
function summaryOf(ends: StoppedRecord[]): string {
  const reasons = new Map<string, number>();
  let calls = 0;
  let dropped = 0;
  for (const stopped of ends) {
    reasons.set(stopped.reason, (reasons.get(stopped.reason) ?? 0) + 1);
    calls += stopped.stats.reported;
    dropped += stopped.stats.dropped.rate + stopped.stats.dropped.queue + stopped.stats.dropped.overload;
  }
  const why = [...reasons].map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `ended: ${why}; ${calls} calls, ${dropped} dropped`;
}
