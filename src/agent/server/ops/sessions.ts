/**
 * The ops on sessions: trace and claim start one (the connection then owns it), add,
 * stop and stats act on one this connection owns and on no other.
 */
import { LivetraceError, toLivetraceError } from '../../../protocol/errors.js';
import {
  errorReply,
  type AddRequest,
  type ClaimRequest,
  type SessionStatsEntry,
  type StatsRequest,
  type StopRequest,
  type TraceRequest,
} from '../../../protocol/messages.js';
import { claimRunSession } from '../../session/run-session.js';
import { trace as startSession } from '../../session/session.js';
import { MAX_SESSIONS_PER_CONNECTION } from '../../limits.js';
import type { OpContext } from './context.js';
import { ArrayPrototypePush } from '../../../safe/intrinsics.js';

/** LT_AGENT_BUSY when this connection already runs its share of sessions (checked before one starts). */
function roomForSession(ctx: OpContext): void {
  const running = ctx.ownedSessions().length;
  if (running >= MAX_SESSIONS_PER_CONNECTION) {
    throw new LivetraceError('LT_AGENT_BUSY', `this connection already runs ${running} sessions`, {
      input: running,
      hint: `A connection may run ${MAX_SESSIONS_PER_CONNECTION} sessions at once; stop one first.`,
    });
  }
}

export function trace(ctx: OpContext, request: TraceRequest): void {
  roomForSession(ctx);
  // Options are checked once, by the session (protocol/options.ts); the table bounds eventBytes to half a frame.
  ctx.adopt(request.id, startSession(request.patterns, request.options));
}

/** `livetrace run`: the session the preload started waits for its CLI (run-session.ts). */
export function claim(ctx: OpContext, request: ClaimRequest): void {
  roomForSession(ctx);
  ctx.adopt(request.id, claimRunSession(request.token));
}

export function add(ctx: OpContext, request: AddRequest): void {
  const owned = ctx.owned(request.session);
  const added = owned.session.add(request.patterns);
  ArrayPrototypePush(owned.patterns, ...request.patterns);
  ctx.reply({ id: request.id, ok: true, added });
}

export async function stop(ctx: OpContext, request: StopRequest): Promise<void> {
  try {
    const { session } = ctx.owned(request.session);
    await session.stop('user');
    ctx.reply({ id: request.id, ok: true, stats: session.stats });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
}

export function stats(ctx: OpContext, request: StatsRequest): void {
  const owned = request.session === undefined ? ctx.ownedSessions() : [ctx.owned(request.session)];
  const sessions: SessionStatsEntry[] = owned.map(({ session, patterns }) => ({
    session: session.id,
    patterns: [...patterns],
    stopped: session.stopped,
    stats: session.stats,
  }));
  ctx.reply({ id: request.id, ok: true, sessions });
}
