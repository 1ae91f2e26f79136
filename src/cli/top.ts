/**
 * `livetrace top`: every Node process of this user with CPU and memory from /proc, and heap
 * and event-loop figures for those that already have an agent (src/client/top.ts). On a
 * terminal it is an interactive monitor (top-view.ts: sorting, Enter for info, t to trace);
 * `--once` prints one round, as a table or as JSON. Listing never attaches.
 */
import type { Command } from 'commander';
import { sampleTop } from '../client/top.js';
import { LivetraceError } from '../protocol/errors.js';
import { renderTop } from './format/top.js';
import { runTopView } from './top-view.js';

interface TopOptions {
  once?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('top')
    .description('List every Node process of this user with CPU, memory, heap and event loop figures')
    .option('--once', 'print one round (measured over 1 s) and exit')
    .option('--json', 'print the round as JSON')
    .action(async (options: TopOptions) => {
      if (options.once !== true) {
        if (options.json === true || process.stdin.isTTY !== true || process.stdout.isTTY !== true) {
          throw new LivetraceError('LT_OPTION_INVALID', 'the interactive top needs a terminal (and no --json): use livetrace top --once', {
            hint: 'Run livetrace top --once (or --once --json) for one round.',
          });
        }
        await runTopView({ cliPath: cliEntry() });
        return;
      }
      const entries = await sampleTop();
      process.stdout.write(options.json === true ? `${JSON.stringify(entries, null, 2)}\n` : renderTop(entries));
    });
}

/** The script this CLI runs as (bin/livetrace.js): the interactive view starts a trace with it. */
function cliEntry(): string {
  const script = process.argv[1];
  if (script === undefined) throw new LivetraceError('LT_INTERNAL', 'the CLI does not know its own script');
  return script;
}
