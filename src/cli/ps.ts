/**
 * `livetrace ps`: every Node process of this user, with or without an agent, and what
 * livetrace can do with each: trace it now (it has an agent), attach to it (it catches
 * SIGUSR1), or neither (and why). Listing touches no process: /proc and the agents'
 * sockets only (src/client/processes.ts).
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import { listNodeProcesses, type NodeProcess } from '../client/processes.js';
import { escapeText } from './format/escape.js';
import { formatMs } from './format/duration.js';

export function register(program: Command): void {
  program
    .command('ps')
    .description('List the Node processes of this user: with an agent, attachable, or not')
    .option('--agents', 'only the processes that have a livetrace agent')
    .option('--json', 'print the list as JSON')
    .action(async (options: { json?: boolean; agents?: boolean }) => {
      let found = await listNodeProcesses();
      if (options.agents === true) found = found.filter((p) => p.reach === 'agent');
      if (options.json === true) process.stdout.write(`${JSON.stringify(found.map(psEntry), null, 2)}\n`);
      else if (found.length === 0 && options.agents === true) process.stdout.write('no process with a livetrace agent (start one with: node --import livetrace/register app.js)\n');
      else process.stdout.write(renderProcesses(found));
    });
}

/** The JSON row: the agent's figures when there is one, the kernel's otherwise. */
export function psEntry(p: NodeProcess): Record<string, unknown> {
  return {
    pid: p.pid,
    ppid: p.ppid,
    node: p.agent?.node ?? null,
    uptimeMs: p.agent?.uptimeMs ?? Math.max(0, Date.now() - p.startedAt),
    rssBytes: p.rssBytes,
    cpuMs: p.cpuMs,
    agent: p.agent !== undefined,
    sessions: p.agent?.sessions ?? 0,
    reach: p.reach,
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    argv: p.agent?.argv ?? p.argv,
  };
}

const REACH: Record<NodeProcess['reach'], string> = { agent: 'agent', attachable: 'attach', no: 'no' };

/** The ps table: pid, node version, uptime, memory, CPU time, what livetrace can do, sessions, command line. */
export function renderProcesses(found: NodeProcess[]): string {
  if (found.length === 0) return 'no Node process of this user (start one with: node --import livetrace/register app.js)\n';
  const rows = found.map((p) => [
    String(p.pid),
    p.agent?.node ?? '-',
    formatMs(p.agent?.uptimeMs ?? Math.max(0, Date.now() - p.startedAt)),
    p.rssBytes > 0 ? `${Math.round(p.rssBytes / 1048576)}M` : '-',
    formatMs(p.cpuMs),
    REACH[p.reach],
    p.agent === undefined ? '-' : String(p.agent.sessions),
    escapeText(commandLine(p.agent?.argv ?? p.argv)),
  ]);
  const header = ['PID', 'NODE', 'UPTIME', 'RSS', 'CPU', 'TRACE', 'SESSIONS', 'COMMAND'];
  const right = new Set([0, 3, 4, 6]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    row.map((cell, i) => (i === row.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ');
  const notes = found.filter((p) => p.reach === 'no').map((p) => `${p.pid}: cannot attach: ${p.reason ?? 'unknown'}`);
  const legend = 'TRACE: agent = traceable now; attach = livetrace trace <pid> loads an agent first; no = see below';
  return [header, ...rows].map(line).join('\n') + '\n' + (notes.length > 0 || found.some((p) => p.reach === 'attachable') ? `${legend}\n` : '') + notes.map((n) => `${n}\n`).join('');
}

/** The command line as typed: the node binary by its name, then the arguments. */
function commandLine(argv: string[]): string {
  const [exe, ...rest] = argv;
  return [basename(exe ?? 'node'), ...rest].join(' ').trimEnd();
}
