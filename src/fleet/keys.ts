/**
 * The names livetrace uses in Redis. Everything lives under one prefix, `livetrace:`, so
 * a Redis ACL can confine a livetrace user to its own keys and channels (docs/fleet.md):
 *
 *   livetrace:agent:<service>:<agent>   an agent's registration (JSON, expires unless refreshed)
 *   livetrace:ctl:<service>             pub/sub channel of requests to a service's agents
 *   livetrace:ev:<session>              bounded stream (MAXLEN) of a fleet session's records
 *
 * An agent's id is `<host>:<pid>`; a service name and a host name are kept to
 * [A-Za-z0-9._@/-] (anything else becomes '_') so that they never reach into another key.
 */
export const PREFIX = 'livetrace:';

export function cleanName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9._@/-]/g, '_').slice(0, 100);
  return clean === '' ? '_' : clean;
}

export function agentKey(service: string, agent: string): string {
  return `${PREFIX}agent:${service}:${agent}`;
}

export function agentKeyPattern(service: string | undefined): string {
  return `${PREFIX}agent:${service === undefined ? '*' : service.replace(/[*?[\]\\]/g, '\\$&')}:*`;
}

export function controlChannel(service: string): string {
  return `${PREFIX}ctl:${service}`;
}

export function eventStream(session: string): string {
  return `${PREFIX}ev:${session}`;
}

/** How long a registration lives without a heartbeat, ms; agents refresh it every HEARTBEAT_MS. */
export const REGISTRATION_TTL_MS = 3000;
export const HEARTBEAT_MS = 1000;
/** A session ends this long after the operator's last renewal, ms (unless told otherwise). */
export const DEFAULT_LEASE_MS = 5000;
/** Entries an event stream keeps at most (approximately: MAXLEN ~). */
export const STREAM_MAXLEN = 10_000;
/** An event stream disappears this long after its last entry, ms. */
export const STREAM_TTL_MS = 60_000;
