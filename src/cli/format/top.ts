/** The `livetrace top --once` table: one row per Node process, the agent's columns blank without one. */
import type { TopEntry } from '../../client/top.js';
import { escapeText } from './escape.js';
import { formatBytes } from './info.js';

export function renderTop(entries: TopEntry[]): string {
  if (entries.length === 0) return 'no Node process of this user\n';
  const header = ['PID', 'CPU%', 'RSS', 'HEAP', 'LOOP%', 'DELAY99', 'NAME'];
  const rows = entries.map((e) => [
    String(e.pid),
    e.cpuPercent === null ? '-' : e.cpuPercent.toFixed(1),
    formatBytes(e.rssBytes),
    e.heapUsed === null ? '-' : formatBytes(e.heapUsed),
    e.loopUtilization === null ? '-' : (e.loopUtilization * 100).toFixed(1),
    e.loopDelayP99Ms === null ? '-' : `${Math.round(e.loopDelayP99Ms)}ms`,
    escapeText(e.name),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === cells.length - 1 ? c : i === 0 ? c.padStart(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export type SortKey = 'pid' | 'cpu' | 'rss' | 'heap' | 'loop' | 'delay' | 'name';

const COLUMN_OF: Record<SortKey, number> = { pid: 0, cpu: 1, rss: 2, heap: 3, loop: 4, delay: 5, name: 6 };

export interface TopViewState {
  sort: SortKey;
  descending: boolean;
  /** Index of the selected row among `entries`. */
  selected: number;
  filter: string;
  /** Rows the terminal has room for. */
  rows: number;
}

/**
 * The interactive top's table: the sorted column's header marked with an arrow, the selected
 * row with '>' and reverse video, scrolled so the selection stays on screen.
 */
export function renderTopView(entries: TopEntry[], state: TopViewState): string {
  const title = `livetrace top: ${entries.length} Node process${entries.length === 1 ? '' : 'es'}${state.filter === '' ? '' : ` matching '${escapeText(state.filter)}'`}\n`;
  if (entries.length === 0) return `${title}\n`;
  const table = renderTop(entries).split('\n').filter((line) => line !== '');
  const sortColumn = COLUMN_OF[state.sort];
  const header = table[0]!.replace(/\S+/g, (name, offset: number) => {
    const index = table[0]!.slice(0, offset).trim().split(/\s+/).filter((w) => w !== '').length;
    return index === sortColumn ? `${name}${state.descending ? 'v' : '^'}` : name;
  });
  const body = table.slice(1);
  const room = Math.max(1, state.rows - 2);
  const first = Math.max(0, Math.min(state.selected - room + 1, body.length - room));
  const lines = body.slice(first, first + room).map((line, i) => (first + i === state.selected ? `\x1b[7m> ${line}\x1b[0m` : `  ${line}`));
  return `${title}  ${header}\n${lines.join('\n')}\n`;
}
