/**
 * `livetrace trace <pid> <pattern...>`: start a session in a running process and print
 * its events until it stops. Several targets (`4242,4243`, `--children`, `--match`) are
 * trace-targets.ts's; one pid stays here, as it always was. While it runs, lines on stdin are commands
 * (command-input.ts: `+pattern`, `?fn`, `-`); Ctrl-C ends it cleanly. At the end the
 * reason and the counts go to stderr.
 *
 * Exit status: 0 when the session ran and ended by its limits, its time, the user, or
 * the target exiting; 2 for bad input (pattern, option, pid, no agent); 1 for a failure
 * of livetrace.
 */
import type { Command } from 'commander';
import { parsePattern } from '../pattern/text.js';
import { LivetraceError } from '../protocol/errors.js';
import { parsePidList } from '../client/targets.js';
import { openAgent, parsePid } from './agent-connection.js';
import { readCommands } from './command-input.js';
import { styleFor } from './format/style.js';
import { onInterrupt } from './interrupt.js';
import { Screen, openOutput } from './screen.js';
import { renderDeeper } from './deeper.js';
import { TraceConsole, exitStatusOf } from './trace-console.js';
import { onBrokenPipe, targetEnd } from './trace-end.js';
import { addTraceOptions, formatOf, traceOptionsOf, type TraceCommandOptions } from './trace-options.js';

interface TraceArgs extends TraceCommandOptions {
  attach: boolean;
  children?: boolean;
  match?: string;
  perProcess?: boolean;
  fleet?: string;
  service?: string;
  lease?: string;
}

export function register(program: Command): void {
  const command = program
    .command('trace')
    .description('Trace calls in running processes until the session stops')
    .argument('<pid>', 'process id, or several separated by commas (4242,4243); left out with --match and --fleet')
    .argument('[pattern...]', "what to trace, e.g. 'src/users:findUser(nil, ...) -> stack'")
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .option('--children', 'also trace every Node process below the given ones (a cluster primary and its workers)')
    .option('--match <glob>', "trace every Node process whose command line matches ('*' any text, '?' one character)")
    .option('--per-process', "print each process's count/hist table besides the merged one (several targets), and each worker thread's")
    .option('--fleet <url>', 'trace every agent of --service in this Redis fleet, redis://[user:password@]host[:port] (docs/fleet.md)')
    .option('--service <name>', 'with --fleet: the service whose agents to trace')
    .option('--lease <duration>', 'with --fleet: agents end the session this long after the CLI stops renewing it (default 5s)');
  addTraceOptions(command).addHelpText(
    'after',
    [
      '',
      'While tracing, type a command and Enter:',
      '  +<pattern>    add a pattern, e.g. +src/db:query',
      '  ?<function>   ask what a traced function calls',
      '  -             stop (as Ctrl-C or, on a terminal, Ctrl-D do)',
      'When stdin is not a terminal it is read as a script of such lines, and its end does',
      'not stop the trace: `livetrace trace ... </dev/null` runs until --max or --for.',
      '',
      'Several targets (4242,4243, --children, --match): one session in each, every one with',
      'its own limits; count/hist tables are merged across them (--per-process adds each',
      "process's own); each target's end is reported, and a target that exits leaves the others running.",
    ].join('\n'),
  );
  command.action(async (first: string, rest: string[], options: TraceArgs) => {
    if (options.fleet !== undefined) {
      // Loaded only for the trace that needs it, as the other branches below: start-up is part of the time to the first event.
      const { traceFleet } = await import('./fleet.js');
      process.exitCode = await traceFleet([first, ...rest], options);
      return;
    }
    // With --match the targets come from the glob, so every argument is a pattern.
    const patterns = options.match !== undefined ? [first, ...rest] : rest;
    const pids = options.match !== undefined ? [] : first.includes(',') ? parsePidList(first) : [parsePid(first)];
    if (patterns.length === 0) throw new LivetraceError('LT_PATTERN_EMPTY', 'no pattern given: livetrace trace <pid> <pattern...>', { input: '' });
    const single = options.match === undefined && options.children !== true && pids.length === 1;
    if (single) process.exitCode = await traceProcess(pids[0]!, patterns, options);
    else {
      const { traceTargets } = await import('./trace-targets.js');
      process.exitCode = await traceTargets({ pids, children: options.children, match: options.match }, patterns, options);
    }
  });
}

async function traceProcess(pid: number, patterns: string[], options: TraceArgs): Promise<number> {
  const traceOptions = traceOptionsOf(options);
  for (const pattern of patterns) parsePattern(pattern);
  const output = openOutput(options.output);
  const screen = new Screen(output.stream, process.stderr, { bytes: true });
  try {
    const client = await openAgent(pid, { attach: options.attach, say: (text) => screen.info(text) });
    try {
      // --format json prints call records as the agent wrote them: the client need not parse them (raw-records.ts).
      const session = await client.trace(patterns, traceOptions, { rawCalls: formatOf(options) === 'json' });
      const view = new TraceConsole({
        format: formatOf(options),
        screen,
        style: styleFor(output.stream),
        drained: () => output.drained(),
        deeper: async (fn) => renderDeeper(await client.deeper(fn), pid),
        perThread: options.perProcess === true,
      });
      const input = readCommands(process.stdin, (command) => view.command(command, session));
      const stopOnInterrupt = onInterrupt(() => void session.stop().catch(() => undefined));
      const stopOnBrokenPipe = onBrokenPipe(() => void session.stop().catch(() => undefined));
      try {
        const stopped = await targetEnd(pid, await view.follow(session));
        view.close();
        view.summarize(stopped);
        return exitStatusOf(stopped);
      } finally {
        view.close();
        input.close();
        stopOnInterrupt();
        stopOnBrokenPipe();
      }
    } finally {
      await client.close();
    }
  } finally {
    output.close();
  }
}
