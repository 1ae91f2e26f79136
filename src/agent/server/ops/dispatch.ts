/**
 * Which handler serves each op. A handler throws a LivetraceError for a bad request; the
 * connection turns it into an error reply for that request and serves on.
 */
import type { Request } from '../../../protocol/messages.js';
import type { OpContext } from './context.js';
import { hello } from './hello.js';
import { join } from './fleet.js';
import { deeper, list } from './inspect.js';
import { completeOp, evalOp, get, info } from './observer.js';
import { add, claim, stats, stop, trace } from './sessions.js';

export function runOp(ctx: OpContext, request: Request): void {
  switch (request.op) {
    case 'hello':
      return hello(ctx, request);
    case 'list':
      return list(ctx, request);
    case 'trace':
      return trace(ctx, request);
    case 'add':
      return add(ctx, request);
    case 'stop':
      return void stop(ctx, request);
    case 'stats':
      return stats(ctx, request);
    case 'claim':
      return claim(ctx, request);
    case 'deeper':
      return deeper(ctx, request);
    case 'info':
      return void info(ctx, request);
    case 'get':
      return void get(ctx, request);
    case 'eval':
      return void evalOp(ctx, request);
    case 'complete':
      return void completeOp(ctx, request);
    case 'join':
      return void join(ctx, request);
  }
}
