/**
 * The backend of `livetrace dashboard`: the user's Node processes from /proc (as `ps` and
 * `top` list them: nothing is signalled or attached by looking), and their agents over the
 * control socket.
 *
 * Each Process page and each session gets its own connection. The agent ties info
 * sampling to the connection that asked, and stops a connection's sessions (removing their
 * patches) when it closes; so closing the connection is how the dashboard guarantees a
 * closed page leaves nothing behind, even when a stop request is lost.
 *
 * An agent is loaded (attach) only on an explicit request: the Process page's Attach
 * button, or Start on the Trace and Latency pages.
 */
import { dirname } from 'node:path';
import { ensureAgent } from '../../attach/attach.js';
import type { AgentClient } from '../../client/client.js';
import { connect } from '../../client/connect.js';
import { listNodeProcesses } from '../../client/processes.js';
import { processName } from '../../client/top.js';
import { isLivetraceError } from '../../protocol/errors.js';
import type { SessionRecord } from '../../protocol/events.js';
import type { TraceOptions } from '../../protocol/options.js';
import type { DashboardBackend, InfoWatch, LiveSession, ProcessRow, WatchOptions } from '../server/backend.js';

export interface RemoteOptions {
  /** Directory of the agents' sockets (tests); defaults to the client's. */
  socketDir?: string;
}

export class RemoteBackend implements DashboardBackend {
  readonly kind = 'remote' as const;
  private readonly socketDir: string | undefined;
  private previous = new Map<number, { cpuMs: number; at: number }>();
  private readonly open = new Set<AgentClient>();

  constructor(options: RemoteOptions = {}) {
    this.socketDir = options.socketDir;
  }

  async processes(): Promise<ProcessRow[]> {
    const found = await listNodeProcesses(this.socketDir === undefined ? {} : { socketDir: this.socketDir });
    const now = performance.now();
    const next = new Map<number, { cpuMs: number; at: number }>();
    const rows = found.map((p): ProcessRow => {
      const before = this.previous.get(p.pid);
      next.set(p.pid, { cpuMs: p.cpuMs, at: now });
      const argv = p.agent?.argv ?? p.argv;
      const row: ProcessRow = {
        pid: p.pid,
        name: processName(argv),
        cpuPercent: before === undefined || now <= before.at ? null : Math.round(((p.cpuMs - before.cpuMs) / (now - before.at)) * 1000) / 10,
        rssBytes: p.rssBytes,
        reach: p.reach,
        sessions: p.agent?.sessions ?? null,
        uptimeMs: Math.max(0, Date.now() - p.startedAt),
        argv,
      };
      if (p.reason !== undefined) row.reason = p.reason;
      return row;
    });
    this.previous = next;
    return rows;
  }

  private async client(pid: number, attach: boolean): Promise<AgentClient> {
    const base = this.socketDir === undefined ? {} : { socketDir: this.socketDir };
    let client: AgentClient;
    try {
      client = await connect(pid, base);
    } catch (error) {
      if (!attach || !isLivetraceError(error) || error.code !== 'LT_NO_AGENT') throw error;
      const agent = await ensureAgent(pid, { attach: true, agentCache: true, ...base });
      client = await connect(pid, { socketDir: dirname(agent.socketPath) });
    }
    this.open.add(client);
    return client;
  }

  private async release(client: AgentClient): Promise<void> {
    this.open.delete(client);
    await client.close();
  }

  async watchInfo(pid: number, options: WatchOptions): Promise<InfoWatch> {
    const client = await this.client(pid, options.attach);
    return {
      read: () => client.info(),
      close: () => this.release(client),
    };
  }

  async trace(pid: number, patterns: string[], options: TraceOptions): Promise<LiveSession> {
    const client = await this.client(pid, true);
    let session;
    try {
      session = await client.trace(patterns, options);
    } catch (error) {
      await this.release(client);
      throw error;
    }
    const started = session;
    const release = (): Promise<void> => this.release(client);
    return {
      id: started.id,
      pid,
      async *records(): AsyncGenerator<SessionRecord> {
        try {
          for await (const record of started) yield record;
        } finally {
          await release();
        }
      },
      stop: async () => {
        await started.stop().catch(() => undefined);
        await release();
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.open].map((client) => client.close()));
    this.open.clear();
  }
}
