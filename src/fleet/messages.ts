/** What travels through Redis between the operator's CLI and the agents of a fleet (JSON). */
import type { SessionRecord } from '../protocol/events.js';
import type { TraceOptions } from '../protocol/options.js';

/** An agent's registration, as `livetrace fleet ls` lists it. */
export interface FleetAgent {
  /** '<host>:<pid>' */
  id: string;
  service: string;
  host: string;
  pid: number;
  node: string;
  /** When the process started, ms since the epoch (uptime = now - this). */
  startedAt: number;
  /** livetrace's version in the agent. */
  version: string;
  /** Fleet sessions running in the agent now. */
  sessions: string[];
  /** What the agent's policy allows, so the operator sees it before asking. */
  policy: { modules: string[] | null; values: boolean; maxSessionMs: number | null };
}

/** Who is asking: logged by every agent with the request. */
export interface Requester {
  user: string;
  host: string;
  pid: number;
  /** The Redis user of the operator's connection ('default' when none). */
  redisUser: string;
}

export type ControlMessage =
  | { op: 'trace'; session: string; patterns: string[]; options: TraceOptions; leaseMs: number; who: Requester; agents?: string[] }
  | { op: 'renew'; session: string }
  | { op: 'stop'; session: string; who: Requester };

/** One entry of a session's event stream. */
export type StreamEntry =
  | { kind: 'record'; agent: string; record: SessionRecord }
  /** The agent would not run the session: its policy, a bad pattern, no match. */
  | { kind: 'refused'; agent: string; code: string; message: string }
  /** Records the agent could not hand to Redis (Redis slow or away), since the last such entry. */
  | { kind: 'lost'; agent: string; count: number };
