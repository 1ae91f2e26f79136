/**
 * The table `count` and `hist` sessions print: per function, calls and errors, and for
 * `hist` the latency quantiles (columns shown when some function has them), from one `stats` record (cumulative since the session started). The CLI
 * redraws it in place on a terminal and prints a new one per record otherwise.
 */
import type { FunctionStats, StatsRecord } from '../../protocol/events.js';
import { escapeText } from './escape.js';
import { formatNs } from './duration.js';
import { plain, type Style } from './style.js';

const COUNT_COLUMNS = ['calls', 'errors'] as const;
const QUANTILE_COLUMNS = ['p50', 'p90', 'p99', 'max'] as const;

export interface StatsTableOptions {
  style?: Style;
  /** Clock used for the heading (default: local time). */
  time?: (ts: number) => string;
  /** Name the process in the heading (a trace of several targets shows one table per process). */
  perProcess?: boolean;
  /** Follow the table with each thread's own (a session that ran in worker threads: the record's `threads`). */
  perThread?: boolean;
}

/** Whose calls a table counts: one session, one process of several, or several merged. */
function subjectOf(record: StatsRecord & { merged?: true; pids?: number[] }, perProcess: boolean): string {
  if (record.merged === true && record.pids !== undefined) {
    const shown = record.pids.slice(0, 8).join(', ');
    return `${record.pids.length} process${record.pids.length === 1 ? '' : 'es'} merged (${shown}${record.pids.length > 8 ? ', ...' : ''})`;
  }
  return perProcess ? `process ${record.pid} (session ${escapeText(record.session)})` : `session ${escapeText(record.session)}`;
}

/** The table for one stats record, as lines (no trailing newline). */
export function renderStatsTable(record: StatsRecord, options: StatsTableOptions = {}): string[] {
  const style = options.style ?? plain;
  const time = options.time ?? ((ts: number) => new Date(ts).toLocaleTimeString());
  const heading = `${record.final ? 'final stats' : 'stats'} of ${subjectOf(record, options.perProcess === true)} at ${time(record.ts)}`;
  const lines = tableLines(style, heading, record.functions);
  if (options.perThread !== true || record.threads === undefined) return lines;
  for (const { thread, functions } of record.threads) lines.push(...tableLines(style, `  ${thread === 0 ? 'main thread' : `thread ${thread}`}`, functions));
  return lines;
}

function tableLines(style: Style, heading: string, list: FunctionStats[]): string[] {
  const functions = [...list].sort((a, b) => b.calls - a.calls || a.fn.localeCompare(b.fn));
  if (functions.length === 0) return [style.bold(heading), '  no calls yet'];
  const quantiles = functions.some((f) => f.p50 !== undefined);
  const rows = functions.map((f) => [escapeText(f.fn), ...cells(f, quantiles)]);
  const header = ['function', ...COUNT_COLUMNS, ...(quantiles ? QUANTILE_COLUMNS : [])];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const body = rows.map((row, index) => {
    const text = line(row);
    return functions[index]!.errors > 0 ? style.red(text) : text;
  });
  return [style.bold(heading), style.dim(line(header)), ...body];
}

function cells(f: FunctionStats, quantiles: boolean): string[] {
  const counts = [String(f.calls), String(f.errors)];
  if (!quantiles) return counts;
  // A `count` function next to `hist` ones in one table: its quantile cells stay empty.
  const q = (ns: number | undefined): string => (ns === undefined ? '' : formatNs(ns));
  return [...counts, q(f.p50), q(f.p90), q(f.p99), q(f.max)];
}
