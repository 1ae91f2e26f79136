/**
 * `livetrace ls <pid> [pattern]`: what a process has loaded that livetrace can trace,
 * with the engine that reaches each function and, for one that can't be patched, why.
 * That is how a user learns what a pattern would miss before tracing.
 */
import type { Command } from 'commander';
import type { ModuleListing } from '../protocol/messages.js';
import { escapeText } from './format/escape.js';
import { openAgent, parsePid } from './agent-connection.js';

interface LsOptions {
  json?: boolean;
  attach: boolean;
}

export function register(program: Command): void {
  program
    .command('ls')
    .description('List the modules and traceable functions of a process')
    .argument('<pid>', 'process id', parsePid)
    .argument('[pattern]', "only what this pattern or module glob names, e.g. 'src/users' or 'src/**:find*'")
    .option('--json', 'print the listing as JSON')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .action(async (pid: number, pattern: string | undefined, options: LsOptions) => {
      const client = await openAgent(pid, { attach: options.attach, say: (text) => process.stderr.write(`${text}\n`) });
      try {
        const modules = await client.list(pattern);
        process.stdout.write(options.json === true ? `${JSON.stringify(modules, null, 2)}\n` : renderListing(modules, pattern));
      } finally {
        await client.close();
      }
    });
}

/** One block per module: its functions with kind and engine, or why they can't be patched. */
export function renderListing(modules: ModuleListing[], pattern?: string): string {
  if (modules.length === 0) {
    return pattern === undefined ? 'no traceable module is loaded\n' : `nothing loaded matches '${escapeText(pattern)}'\n`;
  }
  const lines: string[] = [];
  for (const listing of modules) {
    const count = listing.functions.length;
    lines.push(`${escapeText(listing.module)}  (${escapeText(listing.kind)}, ${count} function${count === 1 ? '' : 's'})`);
    if (listing.note !== undefined) lines.push(`  note: ${escapeText(listing.note)}`);
    const pathWidth = Math.max(0, ...listing.functions.map((f) => escapeText(f.path).length));
    const kindWidth = Math.max(0, ...listing.functions.map((f) => f.kind.length));
    for (const f of listing.functions) {
      const reach = f.engine === null ? `not patchable: ${escapeText(f.reason ?? 'unknown reason')}` : escapeText(f.engine);
      lines.push(`  ${escapeText(f.path).padEnd(pathWidth)}  ${escapeText(f.kind).padEnd(kindWidth)}  ${reach}`.trimEnd());
      if (f.warning !== undefined && f.warning !== '') lines.push(`  ${' '.repeat(pathWidth)}  warning: ${escapeText(f.warning)}`);
    }
  }
  return lines.join('\n') + '\n';
}
