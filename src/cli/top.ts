/**
 * `livetrace top --once`: every Node process of this user with CPU and memory from /proc,
 * and heap and event-loop figures for those that already have an agent (src/client/top.ts).
 * It never attaches. The interactive view (sorting, Enter for info, t to trace) is not
 * built yet: this pass prints one round, as a table or as JSON.
 */
import type { Command } from 'commander';
import { sampleTop } from '../client/top.js';
import { LivetraceError } from '../protocol/errors.js';
import { renderTop } from './format/top.js';

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
        throw new LivetraceError('LT_OPTION_INVALID', 'the interactive top is not available yet: use livetrace top --once', {
          hint: 'Run livetrace top --once (or --once --json) for one round.',
        });
      }
      const entries = await sampleTop();
      process.stdout.write(options.json === true ? `${JSON.stringify(entries, null, 2)}\n` : renderTop(entries));
    });
}
