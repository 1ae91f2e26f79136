/**
 * `livetrace get <pid> <path>`: the live value at an export path ('src/cache:store') or of a
 * module-internal binding ('src/cache:~store'), read
 * by the agent without calling a getter or opening a Proxy (src/agent/observer/get.ts) and
 * rendered as a trace renders a captured value.
 */
import type { Command } from 'commander';
import { renderValue } from './format/value.js';
import { escapeText } from './format/escape.js';
import { openAgent, parsePid } from './agent-connection.js';

interface GetOptions {
  json?: boolean;
  instances?: boolean;
  attach: boolean;
}

export function register(program: Command): void {
  program
    .command('get')
    .description('Show the live value at an export path of a process')
    .argument('<pid>', 'process id', parsePid)
    .argument('<path>', "<module>:<export>[.<property>...] or <module>:~<internal binding>[...], e.g. 'src/cache:store.entries', 'src/cache:~store'")
    .option('--instances', 'count the live instances of the class at the path and show a few (runs a full GC in the target first)')
    .option('--json', 'print the result as JSON (the value in the capture format of docs/events.md)')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .action(async (pid: number, path: string, options: GetOptions) => {
      const client = await openAgent(pid, { attach: options.attach, say: (text) => process.stderr.write(`${text}\n`) });
      try {
        const result = await client.get(path, options.instances === true ? { instances: true } : {});
        if (options.json === true) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        } else {
          const cut = result.truncated ? '  (cut at the capture limits)' : '';
          if (result.instances !== undefined) {
            const { count } = result.instances;
            process.stdout.write(`${escapeText(result.path)}: ${count} live instance${count === 1 ? '' : 's'} (counted after a full GC in the target)${count > 0 ? `; the first:${cut}` : ''}\n`);
            if (count > 0) process.stdout.write(`${renderValue(result.value)}\n`);
          } else {
            process.stdout.write(`${escapeText(result.path)} =${cut}\n${renderValue(result.value)}\n`);
          }
        }
      } finally {
        await client.close();
      }
    });
}
