/**
 * The table `count` and `hist` sessions print: per function, calls, errors and latency
 * quantiles, from one `stats` record (cumulative since the session started). The CLI
 * redraws it in place on a terminal and prints a new one per record otherwise.
 */
import type { FunctionStats, StatsRecord } from '../../protocol/events.js';
import { escapeText } from './escape.js';
import { formatNs } from './duration.js';
import { plain, type Style } from './style.js';

const COLUMNS = ['calls', 'errors', 'p50', 'p90', 'p99', 'max'] as const;

export interface StatsTableOptions {
  style?: Style;
  /** Clock used for the heading (default: local time). */
  time?: (ts: number) => string;
}

/** The table for one stats record, as lines (no trailing newline). */
export function renderStatsTable(record: StatsRecord, options: StatsTableOptions = {}): string[] {
  const style = options.style ?? plain;
  const time = options.time ?? ((ts: number) => new Date(ts).toLocaleTimeString());
  const heading = `${record.final ? 'final stats' : 'stats'} of session ${escapeText(record.session)} at ${time(record.ts)}`;
  const functions = [...record.functions].sort((a, b) => b.calls - a.calls || a.fn.localeCompare(b.fn));
  if (functions.length === 0) return [style.bold(heading), '  no calls yet'];
  const rows = functions.map((f) => [escapeText(f.fn), ...cells(f)]);
  const header = ['function', ...COLUMNS];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ').trimEnd();
  const body = rows.map((row, index) => {
    const text = line(row);
    return functions[index]!.errors > 0 ? style.red(text) : text;
  });
  return [style.bold(heading), style.dim(line(header)), ...body];
}

function cells(f: FunctionStats): string[] {
  return [String(f.calls), String(f.errors), formatNs(f.p50), formatNs(f.p90), formatNs(f.p99), formatNs(f.max)];
}
