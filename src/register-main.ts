/**
 * The main thread's part of the preload (register.ts loads it, from dist/cjs): the preload
 * engine, the agent, the run session of `livetrace run`, and the fleet joiner.
 */
import { startAgent } from './agent/agent.js';
import { startRunSession } from './agent/session/run-session.js';
import { installPreload } from './agent/engines/preload/preload.js';
import { installFleetJoiner } from './fleet/joiner.js';

/** Starts livetrace in the main thread; once per process (register.ts). */
export function startMain(): void {
  installPreload();
  const agent = startAgent();
  // Under `livetrace run`, the session starts now, before the program's main module loads.
  startRunSession(agent.then((info) => info.listening));
  // A fleet (docs/fleet.md) only when asked: without LIVETRACE_FLEET neither the member nor
  // ioredis is loaded. joinFleet never rejects; the catch covers a failed load. The joiner
  // is what `livetrace attach <pid> --fleet` asks for later; it loads nothing until then.
  installFleetJoiner();
  if (process.env.LIVETRACE_FLEET !== undefined && process.env.LIVETRACE_FLEET !== '') {
    import('./fleet/join.js').then((fleet) => fleet.joinFleet(agent), () => undefined).catch(() => undefined);
  }
}
