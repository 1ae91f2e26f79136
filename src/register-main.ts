/**
 * The main thread's part of the preload (register.ts loads it, from dist/cjs): the preload
 * engine, the agent, the run session of `livetrace run`, and the fleet joiner.
 */
import { startAgent } from './agent/agent.js';
import { startRunSession } from './agent/session/run-session.js';
import { installPreload } from './agent/engines/preload/preload.js';
import { installFleetJoiner } from './fleet/joiner.js';

/**
 * Starts livetrace in the main thread; once per process (register.ts, or attach-main.ts
 * with `attached`). An attach starts no preload engine: by then the program is loaded, and
 * load hooks installed now would change how its later imports load without being asked
 * (engines/preload/preload.ts). The engine tells a preload by the process's command line,
 * where any preload counts (`-r dotenv/config`, `--import tsx`), so it is told here instead:
 * in an attach to such a process it registered ES module hooks, whose loader thread the
 * main thread waits for, 100-170 ms of the target's thread and of the attach
 * (docs/benchmarks.md, branch attach7).
 */
export function startMain(attached = false): void {
  if (!attached) installPreload();
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
