/**
 * Functions livetrace itself calls while it works, kept off every pattern's reach.
 *
 * The re-entrancy guard (guard.ts) already makes livetrace's own calls of a patched
 * function pass-throughs, and its hot path holds pristine references taken at load
 * (src/safe/intrinsics.ts, context.ts). These are the ones whose patching would still
 * distort a trace: AsyncLocalStorage's methods carry the call-tree context, so a wrapper
 * on them would run inside every traced call's own bookkeeping. A pattern that names one
 * lists it as unpatchable with SELF_USED_REASON, so the user is told rather than
 * surprised.
 */
import { contextMethods } from './context.js';

export const SELF_USED_REASON = 'used by livetrace itself (its call-tree context); tracing it would trace livetrace';

const selfUsed = new WeakSet<object>();
for (const fn of contextMethods) if (typeof fn === 'function') selfUsed.add(fn);

/** True for a function livetrace depends on and never patches. */
export function usedByLivetrace(fn: unknown): boolean {
  return typeof fn === 'function' && selfUsed.has(fn);
}
