/**
 * A target's membership in a fleet: what runs in the process when it was started with
 * LIVETRACE_FLEET=redis://…, or when an operator asked it to join (`livetrace attach <pid>
 * --fleet …`). join.ts loads this module only then, so a process that joins no fleet pays
 * nothing and never loads ioredis.
 *
 * The member connects outward to Redis and opens no port. It registers the agent under
 * livetrace:agent:<service>:<host>:<pid> (refreshed every second, gone three seconds after
 * the process is), listens on the service's control channel, and runs what operators ask
 * through the process's own agent, over its unix socket, as any client would: the agent's
 * limits, redaction and overload breaker apply unchanged, and the member adds three rules
 * of its own that nobody outside the host can lift:
 *
 * - the *policy* (LIVETRACE_FLEET_POLICY, policy.ts): which modules may be traced (a session that
 *   matches a function of another module is stopped at once and refused), whether argument
 *   and result values may leave the host (if not, they are removed from every record before
 *   it goes to Redis), and the longest session (a longer `for` is cut to it);
 * - the *lease*: a session ends when the operator has not renewed it for `leaseMs`
 *   (default 5 s), so a killed CLI, a lost network or a Redis restart leaves no session
 *   running;
 * - the *log* (log.ts): every request (trace, stop) is logged with who asked and what,
 *   before it is acted on.
 *
 * A process joins at most one fleet, under one service (join.ts): at startup from its
 * environment, or later on an operator's request through its agent (`attach --fleet`).
 *
 * Never harming the target: every timer and socket is unref'd (a fleet never keeps the
 * process alive), nothing here throws into the program (every promise is caught), and
 * memory is bounded: records go to Redis with XADD MAXLEN as they come, at most
 * MAX_IN_FLIGHT commands are outstanding, and what cannot be sent (Redis slow, away, or
 * refusing) is counted and reported as 'lost' instead of queued. A slow operator costs
 * nothing here: the stream is bounded in Redis, not in the target.
 */
import { hostname } from 'node:os';
import { connect } from '../client/connect.js';
import type { AgentClient } from '../client/client.js';
import type { ClientSession } from '../client/session.js';
import { toLivetraceError } from '../protocol/errors.js';
import type { FleetJoined } from '../protocol/fleet-join.js';
import type { SessionRecord } from '../protocol/events.js';
import { LIVETRACE_VERSION } from '../protocol/messages.js';
import {
  HEARTBEAT_MS,
  REGISTRATION_TTL_MS,
  STREAM_MAXLEN,
  STREAM_TTL_MS,
  agentKey,
  cleanName,
  controlChannel,
  eventStream,
} from './keys.js';
import type { ControlMessage, FleetAgent, StreamEntry } from './messages.js';
import { fleetLog } from './log.js';
import { boundedOptions, outsidePolicy, parsePolicy, withoutValues, type FleetPolicy } from './policy.js';
import { fleetError, openRedis, parseFleetUrl, type FleetUrl, type Redis } from './redis.js';
import { serviceFromPackage } from './service.js';

/** XADDs outstanding at most; past it records are counted as lost. */
const MAX_IN_FLIGHT = 64;
/** Wait between reconnection attempts, ms (doubling up to the max). */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 4000;

interface Running {
  id: string;
  session: ClientSession;
  leaseMs: number;
  renewedAt: number;
  stream: string;
  lost: number;
  /** Set when the member ended it (lease, policy): the reason the stopped record gets. */
  endedBy?: string;
}

export interface MemberOptions {
  url: string;
  service?: string;
  policy?: string;
  /** Resolves once the process's agent listens (the member talks to it over its socket). */
  agentReady: Promise<unknown>;
}

export class FleetMember {
  readonly id: string;
  readonly service: string;
  private readonly url: FleetUrl;
  private readonly policy: FleetPolicy;
  private readonly agentReady: Promise<unknown>;
  private command: Redis | undefined;
  private subscriber: Redis | undefined;
  private agent: Promise<AgentClient> | undefined;
  private readonly sessions = new Map<string, Running>();
  private inFlight = 0;
  private closed = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnecting = false;

  constructor(options: MemberOptions) {
    this.url = parseFleetUrl(options.url);
    this.service = cleanName(options.service ?? serviceFromPackage());
    this.policy = parsePolicy(options.policy);
    this.id = `${cleanName(hostname())}:${process.pid}`;
    this.agentReady = options.agentReady;
  }

  /** Connects and registers; on failure logs it and keeps trying in the background. */
  async start(): Promise<void> {
    try {
      await this.connectRedis();
      fleetLog({ event: 'joined', fleet: this.url.shown, service: this.service, agent: this.id });
    } catch (error) {
      fleetLog({ event: 'join-failed', fleet: this.url.shown, code: toLivetraceError(error).code, message: toLivetraceError(error).message });
      this.scheduleReconnect();
    }
  }

  /**
   * Connects and registers now, or rejects with the coded reason (LT_FLEET_AUTH,
   * LT_FLEET_DENIED, LT_FLEET_UNREACHABLE) and leaves nothing behind: an operator's join
   * (join.ts) answers with the error instead of retrying in the background. Once joined,
   * a lost connection is retried as for a member the environment made.
   */
  async joinNow(who?: string): Promise<void> {
    try {
      await this.connectRedis();
    } catch (error) {
      const lt = toLivetraceError(error);
      fleetLog({ event: 'join-failed', fleet: this.url.shown, service: this.service, who, code: lt.code, message: lt.message });
      this.closed = true;
      throw lt;
    }
    fleetLog({ event: 'joined', fleet: this.url.shown, service: this.service, agent: this.id, who });
  }

  /** Where this member is, as the join op answers (no password). */
  describe(already: boolean): FleetJoined {
    return {
      fleet: this.url.shown,
      service: this.service,
      agent: this.id,
      already,
      policy: { modules: this.policy.modules, values: this.policy.values, maxSessionMs: this.policy.maxSessionMs },
    };
  }

  /** Leaves the fleet: stops its sessions, removes the registration, closes the connections. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    await Promise.all([...this.sessions.values()].map((r) => r.session.stop().catch(() => undefined)));
    await this.command?.del(agentKey(this.service, this.id)).catch(() => undefined);
    this.command?.disconnect();
    this.subscriber?.disconnect();
    const agent = await this.agent?.catch(() => undefined);
    await agent?.close().catch(() => undefined);
  }

  private async connectRedis(): Promise<void> {
    const command = await openRedis(this.url, `livetrace-agent:${this.service}:${this.id}`);
    const subscriber = await openRedis(this.url, `livetrace-agent-sub:${this.service}:${this.id}`).catch((error: unknown) => {
      command.disconnect();
      throw error;
    });
    for (const client of [command, subscriber]) {
      unrefSocket(client);
      client.once('end', () => this.lostConnection());
    }
    try {
      await subscriber.subscribe(controlChannel(this.service));
    } catch (error) {
      command.disconnect();
      subscriber.disconnect();
      throw fleetError(error, this.url, `SUBSCRIBE ${controlChannel(this.service)}`);
    }
    subscriber.on('message', (_channel: string, text: string) => this.onControl(text));
    this.command = command;
    this.subscriber = subscriber;
    this.reconnectMs = RECONNECT_MIN_MS;
    await this.register();
    if (this.heartbeat === undefined) {
      this.heartbeat = setInterval(() => void this.register(), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  /** Either connection ended (Redis restarted, network lost): drop both and reconnect. */
  private lostConnection(): void {
    if (this.closed || this.command === undefined) return;
    fleetLog({ event: 'disconnected', fleet: this.url.shown });
    this.command.disconnect();
    this.subscriber?.disconnect();
    this.command = undefined;
    this.subscriber = undefined;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnecting) return;
    this.reconnecting = true;
    const timer = setTimeout(() => {
      this.reconnecting = false;
      this.connectRedis().then(
        () => fleetLog({ event: 'reconnected', fleet: this.url.shown }),
        () => {
          this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
          this.scheduleReconnect();
        },
      );
    }, this.reconnectMs);
    timer.unref();
  }

  private async register(): Promise<void> {
    this.checkLeases();
    const command = this.command;
    if (command === undefined) return;
    const entry: FleetAgent = {
      id: this.id,
      service: this.service,
      host: hostname(),
      pid: process.pid,
      node: process.version,
      startedAt: Math.round(Date.now() - process.uptime() * 1000),
      version: LIVETRACE_VERSION,
      sessions: [...this.sessions.keys()],
      policy: { modules: this.policy.modules, values: this.policy.values, maxSessionMs: this.policy.maxSessionMs },
    };
    await command.set(agentKey(this.service, this.id), JSON.stringify(entry), 'PX', REGISTRATION_TTL_MS).catch(() => undefined);
  }

  /** Ends every session whose operator stopped renewing it. */
  private checkLeases(): void {
    const now = Date.now();
    for (const running of this.sessions.values()) {
      if (running.endedBy === undefined && now - running.renewedAt > running.leaseMs) {
        running.endedBy = `lease expired: no renewal from the operator for ${running.leaseMs} ms`;
        fleetLog({ event: 'lease-expired', session: running.id, leaseMs: running.leaseMs });
        void running.session.stop().catch(() => undefined);
      }
    }
  }

  private onControl(text: string): void {
    let message: ControlMessage;
    try {
      message = JSON.parse(text) as ControlMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof message.session !== 'string') return;
    switch (message.op) {
      case 'renew': {
        const running = this.sessions.get(message.session);
        if (running !== undefined) running.renewedAt = Date.now();
        return;
      }
      case 'stop': {
        const running = this.sessions.get(message.session);
        if (running === undefined) return;
        fleetLog({ event: 'request', op: 'stop', session: message.session, who: message.who });
        void running.session.stop().catch(() => undefined);
        return;
      }
      case 'trace':
        if (Array.isArray(message.agents) && !message.agents.includes(this.id)) return;
        fleetLog({ event: 'request', op: 'trace', session: message.session, who: message.who, patterns: message.patterns, options: message.options, leaseMs: message.leaseMs });
        void this.trace(message).catch((error: unknown) => this.refuse(message.session, error));
        return;
      default:
        return;
    }
  }

  private async trace(message: Extract<ControlMessage, { op: 'trace' }>): Promise<void> {
    if (this.sessions.has(message.session)) return;
    const patterns = Array.isArray(message.patterns) ? message.patterns.filter((p) => typeof p === 'string') : [];
    const options = boundedOptions(this.policy, message.options ?? {});
    const agent = await this.localAgent();
    const session = await agent.trace(patterns, options);
    const leaseMs = Math.min(60_000, Math.max(1000, Number(message.leaseMs) || 5000));
    const running: Running = { id: message.session, session, leaseMs, renewedAt: Date.now(), stream: eventStream(message.session), lost: 0 };
    this.sessions.set(message.session, running);
    const outside = outsidePolicy(this.policy, session.started);
    if (outside !== undefined) {
      running.endedBy = 'refused';
      this.sessions.delete(message.session);
      await session.stop().catch(() => undefined);
      fleetLog({ event: 'refused', session: message.session, why: outside });
      await this.send(running, { kind: 'refused', agent: this.id, code: 'LT_FLEET_POLICY', message: outside });
      return;
    }
    void this.register();
    try {
      for await (const record of session) this.forward(running, record);
    } finally {
      this.sessions.delete(message.session);
      void this.register();
    }
  }

  private forward(running: Running, record: SessionRecord): void {
    let out: SessionRecord = this.policy.values ? record : withoutValues(record);
    if (record.type === 'stopped' && running.endedBy !== undefined && running.endedBy !== 'refused') out = { ...out, detail: running.endedBy } as SessionRecord;
    void this.send(running, { kind: 'record', agent: this.id, record: out });
  }

  /** XADD to the session's bounded stream; counts instead of queueing when Redis cannot take it. */
  private async send(running: Running, entry: StreamEntry): Promise<void> {
    const command = this.command;
    if (command === undefined || this.inFlight >= MAX_IN_FLIGHT || command.status !== 'ready') {
      running.lost++;
      return;
    }
    const entries: StreamEntry[] = [];
    if (running.lost > 0) {
      entries.push({ kind: 'lost', agent: this.id, count: running.lost });
      running.lost = 0;
    }
    entries.push(entry);
    this.inFlight++;
    try {
      const pipeline = command.pipeline();
      for (const e of entries) pipeline.xadd(running.stream, 'MAXLEN', '~', STREAM_MAXLEN, '*', 'e', JSON.stringify(e));
      pipeline.pexpire(running.stream, STREAM_TTL_MS);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error !== null);
      if (failed !== undefined) throw failed[0];
    } catch (error) {
      running.lost += entries.length;
      const lt = fleetError(error, this.url, `XADD ${running.stream}`);
      if (lt.code === 'LT_FLEET_DENIED') fleetLog({ event: 'send-refused', session: running.id, message: lt.message });
    } finally {
      this.inFlight--;
    }
  }

  private async refuse(session: string, error: unknown): Promise<void> {
    const lt = toLivetraceError(error);
    fleetLog({ event: 'refused', session, code: lt.code, why: lt.message });
    const running: Running = { id: session, session: undefined as never, leaseMs: 0, renewedAt: 0, stream: eventStream(session), lost: 0 };
    await this.send(running, { kind: 'refused', agent: this.id, code: lt.code, message: lt.message });
  }

  private localAgent(): Promise<AgentClient> {
    const existing = this.agent;
    if (existing !== undefined) {
      return existing.then((client) => {
        if (!client.closed) return client;
        this.agent = undefined;
        return this.localAgent();
      });
    }
    const opening = this.agentReady.then(() => connect(process.pid)).then((client) => {
      client.unref();
      return client;
    });
    opening.catch(() => {
      if (this.agent === opening) this.agent = undefined;
    });
    this.agent = opening;
    return opening;
  }
}

/** Keeps a Redis connection from holding the process open, now and after it reconnects. */
function unrefSocket(client: Redis): void {
  const stream = (client as unknown as { stream?: { unref?: () => void } }).stream;
  stream?.unref?.();
}
