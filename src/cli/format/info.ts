/** How `livetrace info` reads on a terminal: one block per snapshot, one concern per line. */
import type { ProcessInfo } from '../../protocol/observer.js';
import { formatMs } from './duration.js';
import { escapeText } from './escape.js';

/** 1536 -> '1.5K', 52_428_800 -> '50M', 2_147_483_648 -> '2G'. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${Number(value.toFixed(digits))}${units[unit]}`;
}

function ms(value: number): string {
  return value < 10 ? `${Number(value.toFixed(2))}ms` : formatMs(value);
}

export function renderInfo(info: ProcessInfo): string {
  const lines: string[] = [];
  const over = info.intervalMs === null ? '' : ` over ${formatMs(info.intervalMs)}`;
  lines.push(`process ${info.pid}  node ${escapeText(info.node)}  up ${formatMs(info.uptimeMs)}  livetrace sessions ${info.sessions}`);
  lines.push(`  command   ${escapeText(info.argv.join(' '))}`);
  const flags = [...info.execArgv.map((f) => escapeText(f))];
  if (info.nodeOptions !== null) flags.push(`NODE_OPTIONS='${escapeText(info.nodeOptions)}'`);
  lines.push(`  flags     ${flags.length === 0 ? '(none)' : flags.join(' ')}`);
  const percent = info.cpu.percent === null ? '' : `  ${info.cpu.percent.toFixed(1)}%${over}`;
  lines.push(`  cpu       user ${formatMs(info.cpu.userUs / 1000)}  system ${formatMs(info.cpu.systemUs / 1000)}${percent}`);
  const m = info.memory;
  lines.push(
    `  memory    rss ${formatBytes(m.rss)}  heap ${formatBytes(m.heapUsed)}/${formatBytes(m.heapTotal)} (limit ${formatBytes(m.heapLimit)})  external ${formatBytes(m.external)}  array buffers ${formatBytes(m.arrayBuffers)}`,
  );
  if (m.spaces.length > 0) {
    const width = Math.max(...m.spaces.map((s) => s.name.length));
    for (const space of m.spaces) {
      lines.push(`    ${escapeText(space.name).padEnd(width)}  ${formatBytes(space.used).padStart(6)} used of ${formatBytes(space.size)}`);
    }
  }
  if (info.gc !== null) {
    const kinds = Object.entries(info.gc.byKind)
      .map(([kind, figures]) => `${kind} ${figures.count} (${ms(figures.pauseMs)})`)
      .join('  ');
    lines.push(`  gc        ${info.gc.count} collections, ${ms(info.gc.pauseMs)} paused${over}${kinds === '' ? '' : `: ${kinds}`}`);
  }
  const loop: string[] = [];
  if (info.loop.utilization !== null) loop.push(`utilization ${(info.loop.utilization * 100).toFixed(1)}%`);
  const delay = info.loop.delay;
  if (delay !== null) {
    loop.push(`delay p50 ${ms(delay.p50)}  p99 ${ms(delay.p99)}  max ${ms(delay.max)} (${delay.resolutionMs}ms timer)`);
  }
  if (loop.length > 0) lines.push(`  loop      ${loop.join('  ')}${over}`);
  const resources = Object.entries(info.resources).sort(([a], [b]) => a.localeCompare(b));
  lines.push(`  handles   ${resources.length === 0 ? 'none' : resources.map(([type, count]) => `${escapeText(type)} ${count}`).join('  ')}`);
  const packages = info.modules.packages;
  const shown = packages.slice(0, 8).map((p) => escapeText(p)).join(', ');
  lines.push(
    `  modules   ${info.modules.cjs} CommonJS, ${info.modules.esm} ES, ${packages.length} package${packages.length === 1 ? '' : 's'}${packages.length === 0 ? '' : ` (${shown}${packages.length > 8 ? ', ...' : ''})`}`,
  );
  if (info.workers !== null) {
    const workers = info.workers.map((w) => {
      const figure = w.utilization === null ? 'no answer' : `loop ${(w.utilization * 100).toFixed(1)}%${w.sinceStart ? ' since start' : over}`;
      return `#${w.threadId} ${escapeText(w.title)} ${figure}`;
    });
    lines.push(`  workers   ${workers.length === 0 ? 'none' : workers.join('  ')}`);
  }
  lines.push(`  cost      ${info.costUs}µs of CPU in the process for this snapshot`);
  return lines.join('\n') + '\n';
}
