/**
 * join: make this process a fleet member on an operator's request (`livetrace attach <pid>
 * --fleet …`). The member itself is the fleet layer's (src/fleet/member.ts), which the agent
 * never imports: the entry points leave a joiner on globalThis (protocol/fleet-join.ts) and
 * this handler calls it. The request names the fleet and the service only; the policy is the
 * process's own (LIVETRACE_FLEET_POLICY), so the socket cannot loosen it.
 */
import { LivetraceError, toLivetraceError } from '../../../protocol/errors.js';
import { FLEET_JOINER_KEY, type FleetJoiner, type JoinRequest } from '../../../protocol/fleet-join.js';
import { errorReply } from '../../../protocol/messages.js';
import { clientOf } from './hello.js';
import type { OpContext } from './context.js';

export async function join(ctx: OpContext, request: JoinRequest): Promise<void> {
  try {
    const joiner = (globalThis as { [FLEET_JOINER_KEY]?: FleetJoiner })[FLEET_JOINER_KEY];
    if (typeof joiner !== 'function') {
      throw new LivetraceError('LT_INTERNAL', 'this agent was started without the fleet joiner (neither livetrace/register nor the library entry ran)');
    }
    const who = clientOf(ctx);
    const joined = await joiner({ fleet: request.fleet, ...(request.service === undefined ? {} : { service: request.service }), ...(who === undefined ? {} : { who }) });
    ctx.reply({ id: request.id, ok: true, joined });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
}
