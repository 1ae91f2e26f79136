/**
 * The `join` op: an operator makes a running process join a fleet after the fact
 * (`livetrace attach <pid> --fleet redis://… --service NAME`, docs/fleet.md).
 *
 * The request carries the Redis URL and, optionally, a service name, and nothing else: the
 * agent-side policy stays what the target's own environment says (LIVETRACE_FLEET_POLICY,
 * or the default), so whoever can reach the socket cannot loosen it. Fields the request
 * does not define are ignored, a `policy` included.
 *
 * The agent does not load the fleet member itself (the agent layer never imports the
 * fleet layer, .dependency-cruiser.cjs): the entry points (register.ts, index.ts) leave a
 * joiner on globalThis under FLEET_JOINER_KEY, which loads the member on first use. The
 * key is a Symbol.for so that every copy of livetrace in the process finds the same one.
 */
import { LivetraceError } from './errors.js';

/** Where the entry points leave the joiner the agent's `join` op calls. */
export const FLEET_JOINER_KEY = Symbol.for('livetrace.fleet.joiner');

export interface JoinRequest {
  id: number | string;
  op: 'join';
  /** redis://[user:password@]host[:port][/db] or rediss://… */
  fleet: string;
  /** The service to register under; default LIVETRACE_SERVICE, else the app's package name. */
  service?: string;
}

/** What a joined (or already joined) member says about itself. Never the password. */
export interface FleetJoined {
  /** The fleet URL with its password replaced by ***. */
  fleet: string;
  service: string;
  /** The agent's id in the fleet, '<host>:<pid>'. */
  agent: string;
  /** The process was already a member of this fleet under this service: nothing changed. */
  already: boolean;
  /** What the target's own policy allows (LIVETRACE_FLEET_POLICY, or the default). */
  policy: { modules: string[] | null; values: boolean; maxSessionMs: number | null };
}

export interface JoinReply {
  id: number | string;
  ok: true;
  joined: FleetJoined;
}

/** What the agent hands the joiner: the request, and who asked (for the fleet log). */
export interface FleetJoinAsk {
  fleet: string;
  service?: string;
  who?: string;
}

export type FleetJoiner = (ask: FleetJoinAsk) => Promise<FleetJoined>;

const MAX_URL_CHARS = 2048;
const MAX_SERVICE_CHARS = 200;

/** Validates a join frame's fields (parseRequest's case for 'join'). */
export function parseJoin(id: number | string, frame: Record<string, unknown>): JoinRequest {
  const fleet = frame.fleet;
  if (typeof fleet !== 'string' || fleet.length === 0 || fleet.length > MAX_URL_CHARS) {
    throw new LivetraceError('LT_PROTOCOL_BAD_REQUEST', `join needs a "fleet" URL string of at most ${MAX_URL_CHARS} characters`, {});
  }
  const service = frame.service;
  if (service === undefined || service === null) return { id, op: 'join', fleet };
  if (typeof service !== 'string' || service.length === 0 || service.length > MAX_SERVICE_CHARS) {
    throw new LivetraceError('LT_PROTOCOL_BAD_REQUEST', `join "service" must be a name of 1 to ${MAX_SERVICE_CHARS} characters`, { input: typeof service === 'string' ? service.slice(0, MAX_SERVICE_CHARS) : service });
  }
  return { id, op: 'join', fleet, service };
}
