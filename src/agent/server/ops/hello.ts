/** hello: the handshake, and what the agent says about its process. */
import { LivetraceError } from '../../../protocol/errors.js';
import { LIVETRACE_VERSION, PROTOCOL_VERSION, type AgentHello, type HelloRequest } from '../../../protocol/messages.js';
import { log } from '../../log.js';
import { activeSessions } from '../../session/session.js';
import type { OpContext } from './context.js';

/** Who each connection said it was (the shell's audit line names it). */
const clients = new WeakMap<OpContext, string>();

/** 'livetrace 0.1.0 pid 1234', as the client introduced itself (unverified). */
export function clientOf(ctx: OpContext): string | undefined {
  return clients.get(ctx);
}

/** This process as hello describes it. */
export function describeAgent(): AgentHello {
  return {
    version: LIVETRACE_VERSION,
    pid: process.pid,
    node: process.version,
    argv: [...process.argv],
    cwd: process.cwd(),
    uptimeMs: Math.round(process.uptime() * 1000),
    sessions: activeSessions().length,
  };
}

export function hello(ctx: OpContext, request: HelloRequest): void {
  if (request.protocol !== PROTOCOL_VERSION) {
    const error = new LivetraceError(
      'LT_PROTOCOL_VERSION',
      `the agent speaks protocol ${PROTOCOL_VERSION}, the client ${request.protocol}`,
      { input: request.protocol },
    );
    ctx.refuse(error, request.id);
    return;
  }
  ctx.greet();
  if (request.client) {
    log.debug({ client: request.client }, 'client connected');
    const { name, version, pid } = request.client;
    clients.set(ctx, `${name} ${version}${pid === undefined ? '' : ` pid ${pid}`}`);
  }
  ctx.reply({ id: request.id, ok: true, protocol: PROTOCOL_VERSION, agent: describeAgent() });
}
