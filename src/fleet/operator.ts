/**
 * The operator's end of a fleet (the CLI's `fleet ls` and `trace --fleet`): list the
 * agents a Redis knows, start one session on each agent of a service, renew its lease, read
 * what the agents stream, and stop it.
 *
 * A fleet session is an id, a control message on the service's channel, and one bounded
 * stream (livetrace:ev:<session>) that every agent of the session appends to. The operator
 * reads the stream with a blocking XREAD on a connection of its own and renews the lease
 * once a second; if this process dies, renewals stop and every agent ends the session within
 * its lease. An agent whose registration disappears (its process is gone) or no longer lists
 * the session (it ended there while Redis was away) is reported as gone.
 */
import { randomBytes } from 'node:crypto';
import { LivetraceError } from '../protocol/errors.js';
import type { TraceOptions } from '../protocol/options.js';
import { DEFAULT_LEASE_MS, agentKey, agentKeyPattern, cleanName, controlChannel, eventStream } from './keys.js';
import type { ControlMessage, FleetAgent, StreamEntry } from './messages.js';
import { fleetError, openRedis, parseFleetUrl, type FleetUrl, type Redis } from './redis.js';
import { requester } from './who.js';

export interface FleetConnection {
  url: FleetUrl;
  redis: Redis;
  close(): void;
}

export async function openFleet(urlText: string, role: string): Promise<FleetConnection> {
  const url = parseFleetUrl(urlText);
  const redis = await openRedis(url, `livetrace-${role}:${process.pid}`);
  return { url, redis, close: () => redis.disconnect() };
}

/** The registered agents, of one service or all, sorted by service, host and pid. */
export async function listAgents(fleet: FleetConnection, service?: string): Promise<FleetAgent[]> {
  const pattern = agentKeyPattern(service === undefined ? undefined : cleanName(service));
  const keys: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, found] = await fleet.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length === 0) return [];
    const values = await fleet.redis.mget(...keys);
    const agents: FleetAgent[] = [];
    for (const value of values) {
      if (value === null) continue;
      try {
        agents.push(JSON.parse(value) as FleetAgent);
      } catch {
        // a foreign key under our prefix: not an agent
      }
    }
    return agents.sort((a, b) => a.service.localeCompare(b.service) || a.host.localeCompare(b.host) || a.pid - b.pid);
  } catch (error) {
    throw fleetError(error, fleet.url, `SCAN/MGET ${pattern}`);
  }
}

export interface FleetTraceOptions {
  service: string;
  patterns: string[];
  options: TraceOptions;
  leaseMs?: number;
  /** Only these agents (ids); default every agent of the service. */
  agents?: string[];
}

export type FleetEvent =
  | StreamEntry
  /** An agent of the session is gone: its registration expired or no longer lists the session. */
  | { kind: 'gone'; agent: string; detail: string };

/**
 * One fleet session. `start()` sends the request; `next()` yields the stream's entries and
 * the agents found gone, until `close()`.
 */
export class FleetTrace {
  readonly id: string;
  readonly service: string;
  readonly agents: FleetAgent[];
  private readonly fleet: FleetConnection;
  private reader: Redis | undefined;
  private readonly request: FleetTraceOptions;
  private readonly leaseMs: number;
  private lastId = '0-0';
  private renewTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly pending: FleetEvent[] = [];
  /** Agents that still run the session as far as we know. */
  private readonly live = new Set<string>();
  private lastCheck = 0;

  constructor(fleet: FleetConnection, agents: FleetAgent[], request: FleetTraceOptions) {
    this.fleet = fleet;
    this.agents = agents;
    this.request = request;
    this.service = cleanName(request.service);
    this.leaseMs = request.leaseMs ?? DEFAULT_LEASE_MS;
    this.id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  }

  get stream(): string {
    return eventStream(this.id);
  }

  async start(): Promise<void> {
    this.reader = await openRedis(this.fleet.url, `livetrace-reader:${process.pid}`);
    for (const agent of this.agents) this.live.add(agent.id);
    const message: ControlMessage = {
      op: 'trace',
      session: this.id,
      patterns: this.request.patterns,
      options: this.request.options,
      leaseMs: this.leaseMs,
      who: requester(this.fleet.url.user),
      agents: this.agents.map((a) => a.id),
    };
    await this.publish(message);
    // Renewed well within the lease, so one lost renewal never ends a session.
    this.renewTimer = setInterval(() => void this.publish({ op: 'renew', session: this.id }).catch(() => undefined), Math.max(200, Math.floor(this.leaseMs / 5)));
  }

  /** The agent ended its part (stopped or refused): no longer checked for. */
  finished(agent: string): void {
    this.live.delete(agent);
  }

  /** Entries that arrived within `blockMs` (maybe none), plus agents found gone. */
  async next(blockMs: number): Promise<FleetEvent[]> {
    if (this.closed || this.reader === undefined) return [];
    const out = this.pending.splice(0);
    let reply: [string, [string, string[]][]][] | null;
    try {
      reply = (await this.reader.xread('COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', this.stream, this.lastId)) as [string, [string, string[]][]][] | null;
    } catch (error) {
      if (this.closed) return out;
      throw fleetError(error, this.fleet.url, `XREAD ${this.stream}`);
    }
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        this.lastId = id;
        const text = fields[fields.indexOf('e') + 1];
        if (text === undefined) continue;
        try {
          out.push(JSON.parse(text) as StreamEntry);
        } catch {
          // not ours
        }
      }
    }
    if (Date.now() - this.lastCheck >= 1000) {
      this.lastCheck = Date.now();
      out.push(...(await this.checkAgents()));
    }
    return out;
  }

  /** Agents of the session whose registration is gone or no longer lists the session. */
  private async checkAgents(): Promise<FleetEvent[]> {
    const ids = [...this.live];
    if (ids.length === 0) return [];
    let values: (string | null)[];
    try {
      values = await this.fleet.redis.mget(...ids.map((id) => agentKey(this.service, id)));
    } catch {
      return [];
    }
    const gone: FleetEvent[] = [];
    ids.forEach((id, index) => {
      const value = values[index];
      let detail: string | undefined;
      if (value === null || value === undefined) detail = 'its registration expired: the process exited, or lost Redis';
      else {
        try {
          const agent = JSON.parse(value) as FleetAgent;
          // A session starts on the agent a moment after the request: only a running one that disappears counts.
          if (!agent.sessions.includes(this.id) && this.seen.has(id)) detail = 'the session no longer runs there (it ended while Redis was unreachable)';
          if (agent.sessions.includes(this.id)) this.seen.add(id);
        } catch {
          detail = undefined;
        }
      }
      if (detail !== undefined) {
        this.live.delete(id);
        gone.push({ kind: 'gone', agent: id, detail });
      }
    });
    return gone;
  }

  private readonly seen = new Set<string>();

  /** Asks every agent to stop the session (each also stops when the lease runs out). */
  async stop(): Promise<void> {
    await this.publish({ op: 'stop', session: this.id, who: requester(this.fleet.url.user) }).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    if (this.renewTimer !== undefined) clearInterval(this.renewTimer);
    this.reader?.disconnect();
  }

  private async publish(message: ControlMessage): Promise<number> {
    try {
      return await this.fleet.redis.publish(controlChannel(this.service), JSON.stringify(message));
    } catch (error) {
      throw fleetError(error, this.fleet.url, `PUBLISH ${controlChannel(this.service)}`);
    }
  }
}

/** The agents of a service, or LT_FLEET_NO_AGENTS. */
export async function agentsOf(fleet: FleetConnection, service: string): Promise<FleetAgent[]> {
  const agents = await listAgents(fleet, service);
  if (agents.length === 0) {
    throw new LivetraceError('LT_FLEET_NO_AGENTS', `no agent of service '${service}' is registered at ${fleet.url.shown}`, { input: service });
  }
  return agents;
}
