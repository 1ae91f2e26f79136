/** `livetrace ps`: the processes of this user that have a livetrace agent. */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { discover } from '../client/discover.js';
import type { AgentHello } from '../protocol/messages.js';
import { escapeText } from './format/escape.js';
import { formatMs } from './format/duration.js';

export function register(program: Command): void {
  program
    .command('ps')
    .description('List the processes on this machine that have a livetrace agent')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean }) => {
      const agents = await discover();
      process.stdout.write(options.json === true ? `${JSON.stringify(agents, null, 2)}\n` : renderAgents(agents));
    });
}

/** The ps table: pid, node version, uptime, active sessions, command line. */
export function renderAgents(agents: AgentHello[]): string {
  if (agents.length === 0) return 'no process with a livetrace agent (start one with: node --import livetrace/register app.js)\n';
  const rows = agents.map((a) => [String(a.pid), a.node, formatMs(a.uptimeMs), String(a.sessions), escapeText(commandLine(a.argv))]);
  const header = ['PID', 'NODE', 'UPTIME', 'SESSIONS', 'COMMAND'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : i === 0 || i === 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ');
  return [header, ...rows].map(line).join('\n') + '\n';
}

/** The command line as typed: the node binary by its name, then the arguments. */
function commandLine(argv: string[]): string {
  const [exe, ...rest] = argv;
  return [basename(exe ?? 'node'), ...rest].join(' ');
}
