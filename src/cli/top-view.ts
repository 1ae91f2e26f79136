/**
 * The interactive `livetrace top`, observer_cli's model: the table of every Node process,
 * redrawn after each round (one round measures CPU over one second, so the view refreshes
 * about every second), and a few keys.
 *
 *   p c m h l d n   sort by pid, CPU, RSS, heap, loop utilization, loop delay, name
 *                   (the same key again flips the order)
 *   up/down, j/k    move the selection
 *   /               filter by a text (pid or name), typed anew; Enter keeps it, Esc clears it
 *   Enter           open the selected process's info view (this attaches, if need be)
 *   t               trace the selected process: asks for a pattern, then runs
 *                   `livetrace trace <pid> <pattern>` on this terminal until Ctrl-C
 *   Esc, b          back from the info view
 *   q, Ctrl-C       quit
 *
 * Only opening a process attaches to it (Enter, t): the list itself reads /proc, and asks
 * only agents that are already there (src/client/top.ts). The info view holds one
 * connection and asks for an `info` every second; going back closes it, which stops the
 * target's sampling (observer's rule: only the open view refreshes).
 *
 * The terminal is in raw mode while the view runs, and restored on every way out,
 * including the trace, which gets the terminal back as a normal child process.
 */
import { spawn } from 'node:child_process';
import type { AgentClient } from '../client/client.js';
import { sampleTop, type TopEntry } from '../client/top.js';
import { isLivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { ProcessInfo } from '../protocol/observer.js';
import { renderInfo } from './format/info.js';
import { renderTopView, type SortKey } from './format/top.js';
import { openAgent } from './agent-connection.js';
import { formatError } from './report.js';

const SORT_KEYS: Record<string, SortKey> = { p: 'pid', c: 'cpu', m: 'rss', h: 'heap', l: 'loop', d: 'delay', n: 'name' };
const INFO_EVERY_MS = 1000;
const CLEAR = '\x1b[H\x1b[2J';

type Mode = { kind: 'list' } | { kind: 'filter'; text: string } | { kind: 'prompt'; pid: number; text: string } | { kind: 'info'; pid: number };

export interface TopViewOptions {
  /** The CLI's own entry (bin/livetrace.js), for the trace it starts. */
  cliPath: string;
}

export async function runTopView(options: TopViewOptions): Promise<void> {
  const view = new TopView(options);
  await view.run();
}

class TopView {
  private entries: TopEntry[] = [];
  private sort: SortKey = 'cpu';
  private descending = true;
  private selected = 0;
  private filter = '';
  private mode: Mode = { kind: 'list' };
  private message = '';
  private info: ProcessInfo | undefined;
  private infoClient: AgentClient | undefined;
  private infoGeneration = 0;
  private stopped = false;
  private paused = false;
  private finish: (() => void) | undefined;
  private readonly onData = (data: Buffer): void => this.keys(data.toString('utf8'));

  constructor(private readonly options: TopViewOptions) {}

  async run(): Promise<void> {
    const done = new Promise<void>((resolve) => (this.finish = resolve));
    this.grabTerminal();
    this.draw();
    void this.rounds();
    try {
      await done;
    } finally {
      this.releaseTerminal();
      await this.closeInfo();
      process.stdout.write('\n');
    }
  }

  private grabTerminal(): void {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    process.stdin.on('data', this.onData);
  }

  private releaseTerminal(): void {
    process.stdin.off('data', this.onData);
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }

  private quit(): void {
    this.stopped = true;
    this.finish?.();
  }

  /** Rounds of the list, one after the other, while the view runs. */
  private async rounds(): Promise<void> {
    while (!this.stopped) {
      try {
        const entries = await sampleTop({ windowMs: 1000 });
        if (this.stopped) return;
        this.entries = entries;
      } catch (error) {
        this.message = formatError(toLivetraceError(error)).split('\n')[0]!;
      }
      if (!this.paused) this.draw();
    }
  }

  private visible(): TopEntry[] {
    const needle = (this.mode.kind === 'filter' ? this.mode.text : this.filter).toLowerCase();
    const shown = needle === '' ? [...this.entries] : this.entries.filter((e) => String(e.pid).includes(needle) || e.name.toLowerCase().includes(needle));
    const value = (e: TopEntry): number | string => {
      switch (this.sort) {
        case 'pid':
          return e.pid;
        case 'cpu':
          return e.cpuPercent ?? -1;
        case 'rss':
          return e.rssBytes;
        case 'heap':
          return e.heapUsed ?? -1;
        case 'loop':
          return e.loopUtilization ?? -1;
        case 'delay':
          return e.loopDelayP99Ms ?? -1;
        case 'name':
          return e.name;
      }
    };
    shown.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const order = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
      return (this.descending ? -order : order) || a.pid - b.pid;
    });
    return shown;
  }

  private selectedEntry(): TopEntry | undefined {
    const shown = this.visible();
    this.selected = Math.max(0, Math.min(this.selected, shown.length - 1));
    return shown[this.selected];
  }

  private draw(): void {
    if (this.stopped || this.paused) return;
    let screen: string;
    if (this.mode.kind === 'info') {
      const head = `livetrace top: process ${this.mode.pid}   Esc/b back  t trace  q quit\n\n`;
      screen = head + (this.info === undefined ? 'reading info...\n' : renderInfo(this.info));
    } else {
      const shown = this.visible();
      this.selectedEntry();
      const footer =
        this.mode.kind === 'filter'
          ? `filter: ${this.mode.text}_`
          : this.mode.kind === 'prompt'
            ? `trace ${this.mode.pid} pattern: ${this.mode.text}_   (Enter starts, Esc cancels)`
            : 'sort: p c m h l d n   Enter info   t trace   / filter   q quit';
      screen = renderTopView(shown, {
        sort: this.sort,
        descending: this.descending,
        selected: this.selected,
        filter: this.filter,
        rows: Math.max(5, (process.stdout.rows ?? 24) - 4),
      });
      screen += `${this.message === '' ? '' : `${this.message}\n`}${footer}`;
    }
    process.stdout.write(CLEAR + screen.replace(/\n/g, '\r\n'));
  }

  private keys(data: string): void {
    if (this.paused) return;
    // Arrow keys come as escape sequences; anything else is read one character at a time.
    if (data === '\x1b[A' || data === '\x1b[B') return this.key(data);
    for (const ch of data) this.key(ch);
  }

  private key(key: string): void {
    if (key === '\x03') return this.quit();
    const mode = this.mode;
    if (mode.kind === 'filter' || mode.kind === 'prompt') {
      if (key === '\r' || key === '\n') {
        if (mode.kind === 'filter') {
          this.filter = mode.text;
          this.mode = { kind: 'list' };
        } else {
          this.mode = { kind: 'list' };
          if (mode.text.trim() !== '') void this.trace(mode.pid, mode.text.trim());
        }
      } else if (key === '\x1b') {
        if (mode.kind === 'filter') this.filter = '';
        this.mode = { kind: 'list' };
      } else if (key === '\x7f' || key === '\b') {
        mode.text = mode.text.slice(0, -1);
      } else if (key >= ' ') {
        mode.text += key;
      }
      return this.draw();
    }
    if (key === 'q') return this.quit();
    if (mode.kind === 'info') {
      if (key === '\x1b' || key === 'b') {
        this.mode = { kind: 'list' };
        void this.closeInfo();
      } else if (key === 't') {
        this.mode = { kind: 'prompt', pid: mode.pid, text: '' };
        void this.closeInfo();
      }
      return this.draw();
    }
    const sortKey = SORT_KEYS[key];
    if (sortKey !== undefined) {
      if (this.sort === sortKey) this.descending = !this.descending;
      else {
        this.sort = sortKey;
        this.descending = sortKey !== 'pid' && sortKey !== 'name';
      }
    } else if (key === '\x1b[A' || key === 'k') {
      this.selected = Math.max(0, this.selected - 1);
    } else if (key === '\x1b[B' || key === 'j') {
      this.selected++;
    } else if (key === '/') {
      this.mode = { kind: 'filter', text: '' };
      this.message = '';
    } else if (key === '\r' || key === '\n') {
      const entry = this.selectedEntry();
      if (entry !== undefined) void this.openInfo(entry.pid);
    } else if (key === 't') {
      const entry = this.selectedEntry();
      if (entry !== undefined) this.mode = { kind: 'prompt', pid: entry.pid, text: '' };
    }
    this.draw();
  }

  private async openInfo(pid: number): Promise<void> {
    const generation = ++this.infoGeneration;
    this.mode = { kind: 'info', pid };
    this.info = undefined;
    this.message = '';
    this.draw();
    let client: AgentClient;
    try {
      client = await openAgent(pid, { attach: true, say: (text) => (this.message = text) });
    } catch (error) {
      if (generation !== this.infoGeneration) return;
      this.mode = { kind: 'list' };
      this.message = formatError(toLivetraceError(error)).split('\n')[0]!;
      return this.draw();
    }
    if (generation !== this.infoGeneration || this.stopped) return void client.close();
    this.infoClient = client;
    try {
      await client.info();
      while (generation === this.infoGeneration && !this.stopped) {
        await new Promise((resolve) => setTimeout(resolve, INFO_EVERY_MS));
        if (generation !== this.infoGeneration) break;
        this.info = await client.info();
        this.draw();
      }
    } catch (error) {
      if (generation === this.infoGeneration) {
        this.mode = { kind: 'list' };
        this.message = isLivetraceError(error) ? formatError(error).split('\n')[0]! : String(error);
        this.draw();
      }
    }
  }

  private async closeInfo(): Promise<void> {
    this.infoGeneration++;
    this.info = undefined;
    const client = this.infoClient;
    this.infoClient = undefined;
    await client?.close().catch(() => {});
  }

  /** `livetrace trace <pid> <pattern>` on this terminal; the view comes back when it ends. */
  private async trace(pid: number, pattern: string): Promise<void> {
    this.paused = true;
    this.releaseTerminal();
    process.stdout.write(`${CLEAR}livetrace trace ${pid} ${pattern}   (Ctrl-C ends the trace and returns to top)\r\n`);
    // The trace gets Ctrl-C (same process group); this process only waits for it.
    const ignore = (): void => {};
    process.on('SIGINT', ignore);
    try {
      await new Promise<void>((resolve) => {
        const child = spawn(process.execPath, [this.options.cliPath, 'trace', String(pid), pattern], { stdio: 'inherit' });
        child.on('error', (error) => {
          this.message = `the trace could not start: ${error.message}`;
          resolve();
        });
        child.on('exit', (code) => {
          if (code !== 0 && code !== null) this.message = `the trace ended with status ${code}`;
          resolve();
        });
      });
    } finally {
      process.off('SIGINT', ignore);
      this.paused = false;
      if (!this.stopped) {
        this.grabTerminal();
        this.draw();
      }
    }
  }
}
