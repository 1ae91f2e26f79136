/**
 * `livetrace trace <pid> <pattern...>`: start a session in a running process and print
 * its events until it stops. While it runs, lines on stdin are commands
 * (command-input.ts: `+pattern`, `?fn`, `-`); Ctrl-C ends it cleanly. At the end the
 * reason and the counts go to stderr.
 *
 * Exit status: 0 when the session ran and ended by its limits, its time, the user, or
 * the target exiting; 2 for bad input (pattern, option, pid, no agent); 1 for a failure
 * of livetrace.
 */
import type { Command } from 'commander';
import { parsePattern } from '../pattern/index.js';
import { waitForProcessEnd } from '../client/process.js';
import type { StoppedRecord } from '../protocol/events.js';
import { openAgent, parsePid } from './agent-connection.js';
import { readCommands } from './command-input.js';
import { styleFor } from './format/style.js';
import { onInterrupt } from './interrupt.js';
import { Screen, openOutput } from './screen.js';
import { renderDeeper } from './deeper.js';
import { TraceConsole, exitStatusOf } from './trace-console.js';
import { addTraceOptions, formatOf, traceOptionsOf, type TraceCommandOptions } from './trace-options.js';

interface TraceArgs extends TraceCommandOptions {
  attach: boolean;
}

export function register(program: Command): void {
  const command = program
    .command('trace')
    .description('Trace calls in a running process until the session stops')
    .argument('<pid>', 'process id', parsePid)
    .argument('<pattern...>', "what to trace, e.g. 'src/users:findUser(nil, ...) -> stack'")
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)');
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
    ].join('\n'),
  );
  command.action(async (pid: number, patterns: string[], options: TraceArgs) => {
    process.exitCode = await traceProcess(pid, patterns, options);
  });
}

async function traceProcess(pid: number, patterns: string[], options: TraceArgs): Promise<number> {
  const traceOptions = traceOptionsOf(options);
  for (const pattern of patterns) parsePattern(pattern);
  const output = openOutput(options.output);
  const screen = new Screen(output.stream, process.stderr);
  try {
    const client = await openAgent(pid, { attach: options.attach, say: (text) => screen.info(text) });
    try {
      const session = await client.trace(patterns, traceOptions);
      const view = new TraceConsole({
        format: formatOf(options),
        screen,
        style: styleFor(output.stream),
        drained: () => output.drained(),
        deeper: async (fn) => renderDeeper(await client.deeper(fn), pid),
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

/**
 * The session ended because its process is going away (the agent's 'exit', or the
 * client's when the connection closed without a 'stopped' record): say whether the target died, and how,
 * rather than only that the connection closed (a crash must not pass for a quiet end).
 * A dying process closes its sockets a moment before it is gone, hence the short wait.
 */
async function targetEnd(pid: number, stopped: StoppedRecord): Promise<StoppedRecord> {
  if (stopped.reason !== 'exit') return stopped;
  const end = await waitForProcessEnd(pid, 2000);
  if (end === undefined) return stopped;
  const how = end.signal !== undefined ? ` (killed by ${end.signal})` : end.code !== undefined ? ` (exit code ${end.code})` : '';
  return { ...stopped, detail: `target process ${pid} exited${how}` };
}

/** `livetrace trace ... | head -5`: once the reader is gone, stop the session quietly. */
function onBrokenPipe(stop: () => void): () => void {
  const handler = (error: NodeJS.ErrnoException): void => {
    if (error.code === 'EPIPE') stop();
  };
  process.stdout.on('error', handler);
  return () => process.stdout.off('error', handler);
}
