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

/**
 * One block per module: its functions with kind and engine, or why they can't be patched.
 * A warning is said once, at the end, with how many functions it concerns; each of those
 * functions points to it by number (a real app has one warning on a thousand exports).
 */
export function renderListing(modules: ModuleListing[], pattern?: string): string {
  if (modules.length === 0) {
    return pattern === undefined ? 'no traceable module is loaded\n' : `nothing loaded matches '${escapeText(pattern)}'\n`;
  }
  const lines: string[] = [];
  const warnings = new Map<string, { n: number; functions: number; modules: Set<string> }>();
  for (const listing of modules) {
    const count = listing.functions.length;
    const internal = listing.functions.filter((f) => f.path.startsWith('~')).length + (listing.moreInternal ?? 0);
    const exported = listing.functions.filter((f) => !f.path.startsWith('~')).length;
    const summary = internal > 0 ? `${exported} exported, ${internal} internal` : `${count} function${count === 1 ? '' : 's'}`;
    let header = `${escapeText(listing.module)}  (${escapeText(listing.kind)}, ${summary})`;
    if (listing.file !== undefined) header += `  ${listing.version !== undefined ? `${escapeText(listing.version)} ` : ''}at ${escapeText(listing.file)}`;
    lines.push(header);
    if (listing.note !== undefined) lines.push(`  note: ${escapeText(listing.note)}`);
    const pathWidth = Math.max(0, ...listing.functions.map((f) => escapeText(f.path).length));
    const kindWidth = Math.max(0, ...listing.functions.map((f) => f.kind.length));
    for (const f of listing.functions) {
      let reach = f.engine === null ? `not patchable: ${escapeText(f.reason ?? 'unknown reason')}` : escapeText(f.engine);
      if (f.engine === 'probe' && f.path.startsWith('~')) reach = 'probe (internal: only a probe reaches it)';
      if (f.warning !== undefined && f.warning !== '') {
        let seen = warnings.get(f.warning);
        if (seen === undefined) warnings.set(f.warning, (seen = { n: warnings.size + 1, functions: 0, modules: new Set() }));
        seen.functions++;
        seen.modules.add(listing.module);
        reach += `  (warning ${seen.n})`;
      }
      lines.push(`  ${escapeText(f.path).padEnd(pathWidth)}  ${escapeText(f.kind).padEnd(kindWidth)}  ${reach}`.trimEnd());
    }
    if (listing.moreInternal !== undefined) lines.push(`  ... ${listing.moreInternal} more internal functions ('livetrace ls <pid> '${escapeText(listing.module)}:~**'' lists them)`);
  }
  for (const [text, seen] of warnings) {
    const where = `${seen.functions} function${seen.functions === 1 ? '' : 's'} in ${seen.modules.size} module${seen.modules.size === 1 ? '' : 's'}`;
    lines.push(`warning ${seen.n} (${where}): ${escapeText(text)}`);
  }
  return lines.join('\n') + '\n';
}
