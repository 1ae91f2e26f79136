/**
 * The observer ops: info (what the process is doing), get (a live value), eval (one
 * expression of `livetrace shell`) and complete (the shell's tab completion). None starts a session. Info's sampling belongs to the connection that asked: it starts on the
 * first info request and stops when the connection closes (agent/observer/sampler.ts).
 */
import { errorReply, type CompleteRequest, type EvalRequest, type GetRequest, type InfoRequest } from '../../../protocol/messages.js';
import { toLivetraceError } from '../../../protocol/errors.js';
import { getValue } from '../../observer/get.js';
import { evaluate } from '../../observer/shell.js';
import { complete } from '../../observer/complete.js';
import { clientOf } from './hello.js';
import { processInfo } from '../../observer/info.js';
import { Sampler } from '../../observer/sampler.js';
import { workerThreads, type WorkerMemory } from '../../observer/workers.js';
import type { OpContext } from './context.js';

const samplers = new WeakMap<OpContext, Sampler>();
const workerMemory = new WeakMap<OpContext, WorkerMemory>();

export async function info(ctx: OpContext, request: InfoRequest): Promise<void> {
  try {
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
    let workers = null;
    if (request.light !== true) {
      let memory = workerMemory.get(ctx);
      if (memory === undefined) workerMemory.set(ctx, (memory = new Map()));
      // Asynchronous (an inspector round trip per worker), and not in costUs: that figure is
      // the synchronous snapshot. docs/observer.md gives the workers' cost measured apart.
      workers = await workerThreads(memory);
    }
    ctx.reply({ id: request.id, ok: true, info: { ...snapshot, workers, costUs: spent.user + spent.system } });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
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

export async function completeOp(ctx: OpContext, request: CompleteRequest): Promise<void> {
  try {
    ctx.reply({ id: request.id, ok: true, completion: await complete(request.line) });
  } catch (error) {
    ctx.reply(errorReply(request.id, toLivetraceError(error)));
  }
}
