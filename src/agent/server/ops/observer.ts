/**
 * The observer ops: info (what the process is doing), get (a live value) and eval (one
 * expression of `livetrace shell`). None starts a session. Info's sampling belongs to the connection that asked: it starts on the
 * first info request and stops when the connection closes (agent/observer/sampler.ts).
 */
import { errorReply, type EvalRequest, type GetRequest, type InfoRequest } from '../../../protocol/messages.js';
import { toLivetraceError } from '../../../protocol/errors.js';
import { getValue } from '../../observer/get.js';
import { evaluate } from '../../observer/shell.js';
import { clientOf } from './hello.js';
import { processInfo } from '../../observer/info.js';
import { Sampler } from '../../observer/sampler.js';
import type { OpContext } from './context.js';

const samplers = new WeakMap<OpContext, Sampler>();

export function info(ctx: OpContext, request: InfoRequest): void {
  const before = process.cpuUsage();
  let sampler = samplers.get(ctx);
  let sample = null;
  if (sampler === undefined) {
    const created = new Sampler();
    sampler = created;
    samplers.set(ctx, created);
    ctx.onClose(() => {
      created.stop();
      samplers.delete(ctx);
    });
  } else {
    sample = sampler.read();
  }
  const snapshot = processInfo(sample, { light: request.light === true });
  const spent = process.cpuUsage(before);
  ctx.reply({ id: request.id, ok: true, info: { ...snapshot, costUs: spent.user + spent.system } });
}

export async function get(ctx: OpContext, request: GetRequest): Promise<void> {
  try {
    const result = await getValue(request.path, request.instances === true ? { instances: true } : {});
    ctx.reply({ id: request.id, ok: true, result });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
}

export async function evalOp(ctx: OpContext, request: EvalRequest): Promise<void> {
  try {
    const client = clientOf(ctx);
    const result = await evaluate(request.expression, {
      ...(request.safe === true ? { safe: true } : {}),
      ...(request.timeoutMs === undefined ? {} : { timeoutMs: request.timeoutMs }),
      ...(client === undefined ? {} : { client }),
    });
    ctx.reply({ id: request.id, ok: true, result });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
}
