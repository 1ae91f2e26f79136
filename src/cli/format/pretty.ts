/**
 * The human format: one line per call, nested calls indented under their parent.
 *
 *   12:01:02.345 4242 src/routes.js:orderOwner({id: 3}) → null 0.3ms
 *   12:01:02.345 4242   src/users.js:findUser(null) → null 0.02ms
 *
 * Why it buffers: the agent reports a call when it ends, so a child arrives before its
 * parent. To print a tree in call order, a call whose parent has not arrived yet is held
 * until the parent comes (then the whole subtree prints, ordered by call id, which the
 * agent hands out as calls begin). A parent may never come: it was dropped by a limit,
 * or it is still running (a request handler awaiting a slow query). So holding is
 * bounded: a group of calls held longer than `holdMs` (1 s), or more than `holdEvents`
 * (1000) calls held in all, is printed as it is, each call at its own depth; its parent,
 * if it comes later, prints on its own. A call that ends after its parent was printed
 * (a callback that outlives it) prints at once. The end of a session prints everything.
 *
 * Session records go to the "info" stream (the CLI sends it to stderr), calls to "out"
 * (stdout), and a `stats` record becomes a table the CLI may redraw in place. All text
 * from the agent passes through `escapeText`/`renderValue`, so a hostile value cannot
 * drive the terminal.
 */
import type {
  AddedRecord,
  CallEvent,
  DroppedRecord,
  MatchedFunction,
  SessionRecord,
  StartedRecord,
  StoppedRecord,
  UnpatchableFunction,
} from '../../protocol/events.js';
import type { Value } from '../../protocol/value.js';
import { escapeText } from './escape.js';
import { renderValue } from './value.js';
import { formatMs, formatNs } from './duration.js';
import { renderStatsTable } from './stats-table.js';
import { plain, type Style } from './style.js';

/** Where a piece of output goes: calls to `out`, session news to `info`, stats tables to `table`. */
export interface Chunk {
  to: 'out' | 'info' | 'table';
  /** One or more lines, without the final newline. */
  text: string;
}

export interface PrettyOptions {
  style?: Style;
  /** Print times in UTC instead of local time (tests). */
  utc?: boolean;
  /** How long a call may wait for its parent, ms (default 1000). */
  holdMs?: number;
  /** How many calls may wait in all (default 1000). */
  holdEvents?: number;
  /** Widest a single captured value is printed (default 200 characters). */
  valueWidth?: number;
  /** Most matched functions listed for a started/added record (default 20). */
  listLimit?: number;
  /** Stats tables name their process (a trace of several targets). */
  perProcess?: boolean;
  /** Each thread's own count/hist table after the session's (stats records with `threads`). */
  perThread?: boolean;
}

interface Node {
  event: CallEvent;
  /** When it started waiting (the clock given to push). */
  since: number;
  children: Node[];
}

/** Keys of printed calls kept so that late children print at once; older ones are forgotten. */
const PRINTED_MEMORY = 10_000;

export class PrettyFormatter {
  private readonly style: Style;
  private readonly utc: boolean;
  private readonly holdMs: number;
  private readonly holdEvents: number;
  private readonly valueWidth: number;
  private readonly listLimit: number;
  private readonly perProcess: boolean;
  private readonly perThread: boolean;
  /** Calls that arrived and wait (with their subtrees) for their parent, by call key. */
  private readonly held = new Map<string, Node>();
  /** Top-most waiting calls grouped by the key of the parent they wait for, oldest group first. */
  private readonly waiting = new Map<string, Node[]>();
  /** Calls printed (or given up on) recently: their late children print at once. */
  private readonly printed = new Set<string>();
  private readonly starts = new Map<string, StartedRecord>();

  constructor(options: PrettyOptions = {}) {
    this.style = options.style ?? plain;
    this.utc = options.utc === true;
    this.holdMs = options.holdMs ?? 1000;
    this.holdEvents = options.holdEvents ?? 1000;
    this.valueWidth = options.valueWidth ?? 200;
    this.listLimit = options.listLimit ?? 20;
    this.perProcess = options.perProcess === true;
    this.perThread = options.perThread === true;
  }

  /** Calls held back, waiting for their parent. */
  get holding(): number {
    return this.held.size;
  }

  /** Formats one record; `now` (ms) is the clock the hold bound is measured on. */
  push(record: SessionRecord, now: number): Chunk[] {
    switch (record.type) {
      case 'call':
        return [...this.call(record, now), ...this.expire(now)];
      case 'started':
        this.starts.set(record.session, record);
        return [{ to: 'info', text: this.started(record) }];
      case 'added':
        return [{ to: 'info', text: this.added(record) }];
      case 'dropped':
        return [{ to: 'info', text: this.dropped(record) }];
      case 'note':
        return [{ to: 'info', text: this.style.dim(`note: ${record.message}`) }];
      case 'stats':
        return [{ to: 'table', text: renderStatsTable(record, { style: this.style, time: (ts) => this.time(ts), perProcess: this.perProcess, perThread: this.perThread }).join('\n') }];
      case 'stopped':
        this.starts.delete(record.session);
        return this.drain();
      default:
        // A record type from a newer agent: the json format shows it; here it is skipped.
        return [];
    }
  }

  /** Prints the groups that waited past the bound (call it periodically). */
  expire(now: number): Chunk[] {
    const chunks: Chunk[] = [];
    for (const [parentKey, group] of this.waiting) {
      const oldest = group[0];
      if (oldest !== undefined && now - oldest.since < this.holdMs && this.held.size <= this.holdEvents) break;
      chunks.push(...this.release(parentKey, group));
    }
    return chunks;
  }

  /** Prints everything still held, oldest call first. */
  drain(): Chunk[] {
    const groups = [...this.waiting].sort(([, a], [, b]) => firstId(a) - firstId(b));
    return groups.flatMap(([parentKey, group]) => this.release(parentKey, group));
  }

  // ---------------------------------------------------------------------------------
  // Call trees

  private call(event: CallEvent, now: number): Chunk[] {
    const key = keyOf(event.pid, event.id);
    const node: Node = { event, since: now, children: this.waiting.get(key) ?? [] };
    this.waiting.delete(key);
    const parentKey = event.parent === null ? null : keyOf(event.pid, event.parent);
    if (parentKey === null || this.printed.has(parentKey)) return this.emit([node]);
    const heldParent = this.held.get(parentKey);
    if (heldParent !== undefined) {
      // The parent ended first and still waits for its own parent: join its subtree.
      heldParent.children.push(node);
    } else {
      const group = this.waiting.get(parentKey);
      if (group === undefined) this.waiting.set(parentKey, [node]);
      else group.push(node);
    }
    this.hold(node);
    return [];
  }

  private hold(node: Node): void {
    this.held.set(keyOf(node.event.pid, node.event.id), node);
  }

  private release(parentKey: string, group: Node[]): Chunk[] {
    this.waiting.delete(parentKey);
    // The parent is given up on: whatever else it had prints at once from now on.
    this.remember(parentKey);
    return this.emit(group);
  }

  /** Prints trees in call order and forgets them. */
  private emit(roots: Node[]): Chunk[] {
    const lines: string[] = [];
    const visit = (nodes: Node[]): void => {
      for (const node of [...nodes].sort((a, b) => a.event.id - b.event.id)) {
        const key = keyOf(node.event.pid, node.event.id);
        this.held.delete(key);
        this.remember(key);
        lines.push(...this.callLines(node.event));
        visit(node.children);
      }
    };
    visit(roots);
    return lines.length === 0 ? [] : [{ to: 'out', text: lines.join('\n') }];
  }

  private remember(key: string): void {
    this.printed.add(key);
    if (this.printed.size > PRINTED_MEMORY) {
      const oldest = this.printed.values().next();
      if (!oldest.done) this.printed.delete(oldest.value);
    }
  }

  // ---------------------------------------------------------------------------------
  // Lines

  /** The call's line, then its stack frames (if captured), indented under it. */
  callLines(event: CallEvent): string[] {
    const s = this.style;
    const head = `${s.dim(this.time(event.ts))} ${s.dim(String(event.pid))} `;
    const indent = '  '.repeat(Math.max(0, Math.min(event.depth, 40)));
    const args = event.args.map((arg) => this.value(arg)).join(', ');
    let line = `${head}${indent}${s.cyan(escapeText(event.fn))}(${args})`;
    if (event.this !== undefined) line += ` ${s.dim('this:')} ${this.value(event.this)}`;
    line += ` ${this.outcome(event)}`;
    if (event.truncated) line += ` ${s.dim('(truncated)')}`;
    const lines = [line];
    if (event.stack !== undefined) {
      const pad = ' '.repeat(`${this.time(event.ts)} ${event.pid} `.length) + indent + '    ';
      for (const frame of event.stack) {
        const where = `${escapeText(frame.file)}:${frame.line}:${frame.column}`;
        lines.push(s.dim(`${pad}at ${frame.fn === '' ? where : `${escapeText(frame.fn)} (${where})`}`));
      }
    }
    return lines;
  }

  private outcome(event: CallEvent): string {
    const s = this.style;
    const took = s.dim(formatNs(event.durationNs));
    const settled = s.dim(`settled in ${formatNs(event.settleNs ?? event.durationNs)}`);
    switch (event.outcome) {
      case 'return':
        return `→ ${this.value(event.value)} ${took}`;
      case 'resolve':
        return `→ resolved ${this.value(event.value)} ${settled}`;
      case 'throw':
        return `${s.red(`✗ threw ${this.value(event.error)}`)} ${took}`;
      case 'reject':
        return `${s.red(`✗ rejected ${this.value(event.error)}`)} ${settled}`;
      default:
        return `${escapeText(String(event.outcome))} ${took}`;
    }
  }

  private value(value: Value | undefined): string {
    return value === undefined ? 'undefined' : renderValue(value, { maxWidth: this.valueWidth });
  }

  private time(ts: number): string {
    const date = new Date(ts);
    if (Number.isNaN(date.getTime())) return '??:??:??.???';
    const parts = this.utc
      ? [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
      : [date.getHours(), date.getMinutes(), date.getSeconds()];
    const ms = this.utc ? date.getUTCMilliseconds() : date.getMilliseconds();
    return `${parts.map((n) => String(n).padStart(2, '0')).join(':')}.${String(ms).padStart(3, '0')}`;
  }

  // ---------------------------------------------------------------------------------
  // Session records

  private started(record: StartedRecord): string {
    const s = this.style;
    const patterns = record.patterns.map((p) => `'${escapeText(p)}'`).join(', ');
    const rate = `rate ${record.limits.rate.count}/${formatMs(record.limits.rate.perMs)}${record.limits.trip ? ' (trip)' : ''}`;
    // An aggregating session reports no call by itself: only its duration limits it.
    const limits =
      record.aggregate === true ? `for ${formatMs(record.limits.forMs)}` : `max ${record.limits.max} calls, for ${formatMs(record.limits.forMs)}, ${rate}`;
    const lines = [s.bold(`tracing ${patterns} in process ${record.pid}`) + s.dim(` (session ${escapeText(record.session)}; ${limits})`)];
    if (record.matched.length === 0 && record.unpatchable.length === 0) {
      lines.push('  nothing matched yet: the patterns apply to modules as they load');
    }
    lines.push(...this.matches(record.matched, record.unpatchable));
    return lines.join('\n');
  }

  private added(record: AddedRecord): string {
    const s = this.style;
    const count = `${record.matched.length} function${record.matched.length === 1 ? '' : 's'}`;
    const head =
      record.patterns.length === 0
        ? `modules loaded in process ${record.pid}: now also tracing ${count}`
        : `added ${record.patterns.map((p) => `'${escapeText(p)}'`).join(', ')}: ${count}`;
    return [s.bold(head), ...this.matches(record.matched, record.unpatchable)].join('\n');
  }

  private matches(matched: MatchedFunction[], unpatchable: UnpatchableFunction[]): string[] {
    const s = this.style;
    const lines = matched.slice(0, this.listLimit).map((m) => `  ${escapeText(m.fn)} ${s.dim(`[${escapeText(m.engine)}]`)}`);
    if (matched.length > this.listLimit) lines.push(s.dim(`  …${matched.length - this.listLimit} more`));
    const atRisk = matched.filter((m) => m.identity !== undefined);
    if (atRisk.length > 0) {
      // One line, not one per function: a broad pattern can match hundreds.
      const names = atRisk.slice(0, 3).map((m) => escapeText(m.fn)).join(', ') + (atRisk.length > 3 ? `, …${atRisk.length - 3} more` : '');
      lines.push(
        s.yellow(`  ${atRisk.length} wrapped in place (${names}): references taken before the trace keep the original, are not seen, and compare unequal;`) +
          s.yellow(' to avoid it, start the program with the preload (livetrace run, --import livetrace/register) or trace them as probes (module:~name)'),
      );
    }
    const refused = unpatchable.slice(0, this.listLimit).map((u) => s.yellow(`  not patchable: ${escapeText(u.fn)}: ${escapeText(u.reason)}`));
    if (unpatchable.length > this.listLimit) refused.push(s.dim(`  …${unpatchable.length - this.listLimit} more not patchable`));
    return [...lines, ...refused];
  }

  private dropped(record: DroppedRecord): string {
    const started = this.starts.get(record.session);
    let why: string;
    switch (record.reason) {
      case 'rate':
        why = started ? `over the rate limit of ${started.limits.rate.count}/${formatMs(started.limits.rate.perMs)}` : 'over the rate limit';
        break;
      case 'queue':
        why = 'the queue was full (calls came faster than they were read)';
        break;
      case 'overload':
        why = 'livetrace was using too much time in the process';
        break;
      default:
        why = escapeText(String(record.reason));
    }
    return this.style.yellow(`dropped ${record.count} call${record.count === 1 ? '' : 's'} in process ${record.pid}: ${why}`);
  }
}

/**
 * The end-of-trace line on stderr, for every format:
 * `stopped: max 20 calls in 3.2s, 0 dropped`, `stopped: time limit 30s in 30.0s, 12 calls, 0 dropped`.
 */
export function describeStop(record: StoppedRecord): string {
  const { stats } = record;
  const dropped = stats.dropped.rate + stats.dropped.queue + stats.dropped.overload;
  // The agent's detail for 'user' is 'stopped by the user': say it once.
  const detail = escapeText(record.detail).replace(/^stopped /, '');
  const parts = [`stopped: ${detail} in ${formatMs(stats.elapsedMs)}`];
  if (record.reason !== 'max') parts.push(`${stats.reported} call${stats.reported === 1 ? '' : 's'}`);
  parts.push(`${dropped} dropped`);
  if (stats.guardErrors > 0) parts.push(`${stats.guardErrors} guard error${stats.guardErrors === 1 ? '' : 's'}`);
  if (stats.internalErrors > 0) parts.push(`${stats.internalErrors} internal error${stats.internalErrors === 1 ? '' : 's'}`);
  // Worker threads whose part of the session ended on its own before this stop (the stats
  // above already count their calls and drops).
  const early = (record.threads ?? []).filter((t) => t.reason !== null && t.reason !== record.reason && t.reason !== 'user');
  if (early.length > 0) parts.push(`ended earlier in thread${early.length === 1 ? '' : 's'} ${early.map((t) => `${t.thread} (${t.reason})`).join(', ')}`);
  return parts.join(', ');
}

function keyOf(pid: number, id: number): string {
  return `${pid}:${id}`;
}

function firstId(group: Node[]): number {
  return Math.min(...group.map((node) => node.event.id));
}
