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
