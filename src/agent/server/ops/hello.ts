/** hello: the handshake, and what the agent says about its process. */
import { LivetraceError } from '../../../protocol/errors.js';
import { LIVETRACE_VERSION, PROTOCOL_VERSION, type AgentHello, type HelloRequest } from '../../../protocol/messages.js';
import { log } from '../../log.js';
import { activeSessions } from '../../session/session.js';
import type { OpContext } from './context.js';

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
  if (request.client) log.debug({ client: request.client }, 'client connected');
  ctx.reply({ id: request.id, ok: true, protocol: PROTOCOL_VERSION, agent: describeAgent() });
}
