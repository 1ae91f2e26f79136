/**
 * What the entry points (register.ts, index.ts) leave for the agent's `join` op
 * (protocol/fleet-join.ts): a function that loads the fleet member on first use only, so a
 * process that never joins a fleet never loads join.ts, member.ts or ioredis.
 */
import { FLEET_JOINER_KEY, type FleetJoiner } from '../protocol/fleet-join.js';

export function installFleetJoiner(): void {
  const holder = globalThis as { [FLEET_JOINER_KEY]?: FleetJoiner };
  holder[FLEET_JOINER_KEY] ??= (ask) => import('./join.js').then((join) => join.joinOnRequest(ask));
}
