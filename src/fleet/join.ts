/**
 * How a process becomes a fleet member, once: from its environment at startup
 * (LIVETRACE_FLEET, register.ts) or on an operator's request through its agent's `join` op
 * (`livetrace attach <pid> --fleet …`, protocol/fleet-join.ts). Either way the member is the
 * same (member.ts): outbound connections only, no port, the lease, the log, and the
 * process's own policy (LIVETRACE_FLEET_POLICY, read from this process's environment and
 * never from the request).
 *
 * The member is kept on globalThis (Symbol.for) because a process can hold two copies of
 * livetrace (the ESM preload and the CommonJS build the attach bootstrap loads): both must
 * see one membership, or a process could end up registered twice.
 *
 * The two ways differ on failure. At startup, a Redis that is away must not stop the
 * program and nobody waits for an answer: the member logs it and keeps trying in the
 * background. On request, an operator waits: a wrong password or an unreachable Redis is
 * answered with its code (LT_FLEET_AUTH, LT_FLEET_UNREACHABLE, ...) and nothing stays
 * behind, so the operator can fix the URL and ask again.
 */
import { LivetraceError, toLivetraceError } from '../protocol/errors.js';
import type { FleetJoinAsk, FleetJoined } from '../protocol/fleet-join.js';
import { cleanName } from './keys.js';
import { fleetLog } from './log.js';
import { FleetMember } from './member.js';
import { parseFleetUrl } from './redis.js';
import { serviceFromPackage } from './service.js';

const MEMBER_KEY = Symbol.for('livetrace.fleet.member');

interface Membership {
  member?: FleetMember;
  /** A join on request under way: a second request waits for it instead of racing it. */
  joining?: Promise<FleetMember>;
}

function membership(): Membership {
  const holder = globalThis as { [MEMBER_KEY]?: Membership };
  return (holder[MEMBER_KEY] ??= {});
}

/**
 * register.ts's entry: joins the fleet LIVETRACE_FLEET names, once per process. Never
 * rejects and never throws: a bad URL or policy is logged and the process goes on.
 */
export function joinFleet(agentReady: Promise<unknown>, env: NodeJS.ProcessEnv = process.env): Promise<FleetMember | undefined> {
  const state = membership();
  if (state.member !== undefined) return Promise.resolve(state.member);
  const url = env.LIVETRACE_FLEET;
  if (url === undefined || url === '') return Promise.resolve(undefined);
  let joined: FleetMember;
  try {
    joined = new FleetMember({ url, service: env.LIVETRACE_SERVICE, policy: env.LIVETRACE_FLEET_POLICY, agentReady });
  } catch (error) {
    const lt = toLivetraceError(error);
    try {
      process.stderr.write(`livetrace fleet: not joining: ${lt.message} [${lt.code}]\n`);
    } catch {
      // nothing to do
    }
    return Promise.resolve(undefined);
  }
  state.member = joined;
  return joined.start().then(
    () => joined,
    () => joined,
  );
}

/**
 * The `join` op's work (the joiner protocol/fleet-join.ts describes): joins `ask.fleet`
 * under `ask.service` (default LIVETRACE_SERVICE, else the app's package name) and answers
 * where the member is, or rejects with a coded error. Asking again for the fleet and
 * service the process is already in changes nothing (`already: true`); another fleet or
 * service is LT_FLEET_MEMBER.
 */
export async function joinOnRequest(ask: FleetJoinAsk, env: NodeJS.ProcessEnv = process.env): Promise<FleetJoined> {
  const state = membership();
  const url = parseFleetUrl(ask.fleet);
  const service = cleanName(ask.service ?? (env.LIVETRACE_SERVICE !== undefined && env.LIVETRACE_SERVICE !== '' ? env.LIVETRACE_SERVICE : serviceFromPackage()));
  if (state.joining !== undefined) await state.joining.catch(() => undefined);
  const existing = state.member;
  if (existing !== undefined) {
    const where = existing.describe(true);
    if (where.fleet === url.shown && (ask.service === undefined || where.service === service)) {
      fleetLog({ event: 'join-request', fleet: url.shown, service, who: ask.who, already: true });
      return where;
    }
    throw new LivetraceError('LT_FLEET_MEMBER', `process ${process.pid} is already in the fleet ${where.fleet} as service '${where.service}'`, { input: { fleet: url.shown, service } });
  }
  fleetLog({ event: 'join-request', fleet: url.shown, service, who: ask.who });
  // The agent answered this request, so it listens: the member can reach it at once.
  const member = new FleetMember({ url: ask.fleet, service, policy: env.LIVETRACE_FLEET_POLICY, agentReady: Promise.resolve() });
  const joining = member.joinNow(ask.who).then(() => member);
  state.joining = joining;
  try {
    await joining;
    state.member = member;
    return member.describe(false);
  } finally {
    if (state.joining === joining) state.joining = undefined;
  }
}
