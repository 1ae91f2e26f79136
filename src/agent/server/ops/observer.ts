/**
 * The observer ops: info (what the process is doing) and get (a live value). Neither
 * starts a session. Info's sampling belongs to the connection that asked: it starts on the
 * first info request and stops when the connection closes (agent/observer/sampler.ts).
 */
import type { GetRequest, InfoRequest } from '../../../protocol/messages.js';
import { getValue } from '../../observer/get.js';
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

export function get(ctx: OpContext, request: GetRequest): void {
  ctx.reply({ id: request.id, ok: true, result: getValue(request.path) });
}
