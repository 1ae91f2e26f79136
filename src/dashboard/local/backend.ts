/**
 * The backend of the mounted dashboard: the process it runs in, through the library
 * (src/index.ts's trace()) and the observer's sampler, with no socket and no attach.
 *
 * Sessions started here are ordinary in-process sessions, the same the agent runs for a
 * remote client, so they keep every guarantee (limits, overload breaker, patches removed
 * on stop). The dashboard's own requests run in this process too; a pattern that matches
 * the app's HTTP layer sees them, which is the truth about the process.
 */
import { trace } from '../../index.js';
import { processInfo } from '../../agent/observer/info.js';
import { Sampler } from '../../agent/observer/sampler.js';
import { LivetraceError } from '../../protocol/errors.js';
import type { SessionRecord } from '../../protocol/events.js';
import type { TraceOptions } from '../../protocol/options.js';
import { activeSessions } from '../../index.js';
import type { DashboardBackend, InfoWatch, LiveSession, ProcessRow } from '../server/backend.js';

function ownProcess(pid: number): void {
  if (pid !== process.pid) {
    throw new LivetraceError('LT_PID_NOT_FOUND', `the mounted dashboard shows only its own process (${process.pid}), not ${pid}`, { input: pid });
  }
}

function scriptName(): string {
  const main = process.argv[1];
  return main === undefined ? 'node' : main.slice(main.lastIndexOf('/') + 1);
}

export class LocalBackend implements DashboardBackend {
  readonly kind = 'local' as const;
  private last = { cpu: process.cpuUsage(), at: performance.now() };
  private readonly samplers = new Set<Sampler>();
  private readonly sessions = new Set<LiveSession>();

  processes(): Promise<ProcessRow[]> {
    const now = performance.now();
    const cpu = process.cpuUsage(this.last.cpu);
    const percent = now > this.last.at ? Math.round(((cpu.user + cpu.system) / 1000 / (now - this.last.at)) * 1000) / 10 : null;
    this.last = { cpu: process.cpuUsage(), at: now };
    return Promise.resolve([
      {
        pid: process.pid,
        name: scriptName(),
        cpuPercent: percent,
        rssBytes: process.memoryUsage.rss(),
        reach: 'agent',
        sessions: activeSessions().length,
        uptimeMs: Math.round(process.uptime() * 1000),
        argv: [...process.argv],
      },
    ]);
  }

  // async: a wrong pid or a bad pattern rejects, as the interface says, rather than throwing.
  async watchInfo(pid: number): Promise<InfoWatch> {
    ownProcess(pid);
    // As the agent's info op: the first read starts the sampling and has no interval figures.
    let sampler: Sampler | undefined;
    let closed = false;
    return {
      read: () => {
        const before = process.cpuUsage();
        let sample = null;
        if (sampler === undefined) {
          if (closed) throw new LivetraceError('LT_SESSION_STOPPED', 'the info watch is closed');
          sampler = new Sampler();
          this.samplers.add(sampler);
        } else sample = sampler.read();
        const snapshot = processInfo(sample);
        const spent = process.cpuUsage(before);
        // Worker threads are listed through the observer's inspector worker, which the
        // mounted page does not start in the app it serves: none are listed here.
        return Promise.resolve({ ...snapshot, workers: null, costUs: spent.user + spent.system });
      },
      close: () => {
        closed = true;
        if (sampler !== undefined) {
          sampler.stop();
          this.samplers.delete(sampler);
        }
        return Promise.resolve();
      },
    };
  }

  async trace(pid: number, patterns: string[], options: TraceOptions): Promise<LiveSession> {
    ownProcess(pid);
    const session = trace(patterns, options);
    const sessions = this.sessions;
    const live: LiveSession = {
      id: session.id,
      pid,
      async *records(): AsyncGenerator<SessionRecord> {
        try {
          for await (const record of session) yield record;
        } finally {
          sessions.delete(live);
        }
      },
      stop: () => session.stop(),
    };
    sessions.add(live);
    return live;
  }

  async close(): Promise<void> {
    for (const sampler of this.samplers) sampler.stop();
    this.samplers.clear();
    await Promise.all([...this.sessions].map((s) => s.stop()));
    this.sessions.clear();
  }
}
