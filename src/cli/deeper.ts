/**
 * `livetrace deeper <pid> <fn>`: what a function calls, each callee as a pattern ready to
 * paste into `trace` (or `+ <pattern>` in a running trace), with the engine that would
 * trace it. The agent reads the function's source (src/agent/deeper/deeper.ts); the process
 * runs nothing for it.
 *
 * `renderDeeper` is also what a running trace prints for `?<fn>`.
 */
import type { Command } from 'commander';
import type { Callee, DeeperResult } from '../protocol/messages.js';
import { escapeText } from './format/escape.js';
import { openAgent, parsePid } from './agent-connection.js';

interface DeeperOptions {
  json?: boolean;
  attach: boolean;
}

export function register(program: Command): void {
  program
    .command('deeper')
    .description('List what a function calls, as patterns ready to trace')
    .argument('<pid>', 'process id', parsePid)
    .argument('<fn>', "the function, as a pattern: 'src/users:findUser', 'src/users:~hashPassword' (internal)")
    .option('--json', 'print the result as JSON')
    .option('--no-attach', 'do not attach when the process has no agent (fail instead)')
    .action(async (pid: number, fn: string, options: DeeperOptions) => {
      const client = await openAgent(pid, { attach: options.attach, say: (text) => process.stderr.write(`${text}\n`) });
      try {
        const results = await client.deeper(fn);
        process.stdout.write(options.json === true ? `${JSON.stringify(results, null, 2)}\n` : renderDeeper(results, pid));
      } finally {
        await client.close();
      }
    });
}

function reach(callee: Callee): string {
  if (callee.engine !== null) return callee.note === undefined ? callee.engine : `${callee.engine} (${callee.note})`;
  return `not traceable${callee.note === undefined ? '' : `: ${callee.note}`}`;
}

/** A pattern as one shell word. */
function shellWord(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * One block per function: its callees with a pattern, aligned, then the calls that can't
 * be named, then the command that traces every traceable callee. `pid` fills that
 * command in (omitted, it reads <pid>).
 */
export function renderDeeper(results: DeeperResult[], pid?: number): string {
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${escapeText(result.fn)}  (${escapeText(result.file)}:${result.line}) calls:`);
    const named = result.callees.filter((c) => c.pattern !== null);
    const unnamed = result.callees.filter((c) => c.pattern === null);
    if (result.callees.length === 0) lines.push('  nothing');
    const where = (c: Callee): string => `line ${c.line}${c.count > 1 ? ` ×${c.count}` : ''}`;
    const width = Math.max(0, ...named.map((c) => escapeText(c.pattern!).length));
    const callWidth = Math.max(0, ...named.map((c) => escapeText(c.call).length));
    const whereWidth = Math.max(0, ...named.map((c) => where(c).length));
    for (const c of named) {
      lines.push(`  ${escapeText(c.pattern!).padEnd(width)}  ${escapeText(c.call).padEnd(callWidth)}  ${where(c).padEnd(whereWidth)}  ${escapeText(reach(c))}`);
    }
    if (unnamed.length > 0) {
      lines.push(`  not named: ${unnamed.map((c) => `${escapeText(c.call)} (${escapeText(c.note ?? 'dynamic')}, line ${c.line})`).join(', ')}`);
    }
    const traceable = named.filter((c) => c.engine !== null).map((c) => shellWord(escapeText(c.pattern!)));
    if (traceable.length > 0) lines.push(`  trace them: livetrace trace ${pid ?? '<pid>'} ${traceable.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
