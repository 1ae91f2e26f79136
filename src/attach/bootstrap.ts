/**
 * The only code livetrace ever evaluates in a target: one fixed expression that loads
 * the agent, and one that closes the inspector.
 *
 * The bootstrap checks the Node version first (it must not touch
 * process.getBuiltinModule on a Node that lacks it), then loads the agent's CommonJS
 * preload entry with `createRequire`, which works the same whether the app is ESM or
 * CJS; or, when the build made it and no copy of that entry is loaded yet, the one-file
 * bundle of the same (src/attach-main.ts) with its V8 code cache (src/agent-loader.ts),
 * which loads in half the time or less. It then
 * awaits the library's idempotent startAgent(), which resolves to the
 * running agent's description: the socket it listens on, computed in the target's own
 * environment (which may differ from the CLI's: another XDG_RUNTIME_DIR or
 * LIVETRACE_SOCKET_DIR), or the coded reason it could not listen. It answers only after
 * the event loop has turned twice, so that the signal's pending request to open the
 * inspector (see closeInspectorExpression) is consumed before we close it. The only variable parts
 * are absolute paths inside the installed livetrace package and the path of the code
 * cache the CLI made in the user's private socket directory (agent-cache.ts), embedded
 * with JSON.stringify; nothing the user typed goes in.
 *
 */
import { dirname, join } from 'node:path';
import { agentEntry, minimumNode, type AgentEntry } from '../protocol/install.js';
import type { AgentInfo } from '../protocol/messages.js';
import { LivetraceError } from '../protocol/errors.js';

export { agentEntry, minimumNode, type AgentEntry };

/** Which code cache the target compiled the agent bundle with (agent-loader.ts AgentCacheState). */
export interface BootstrapCache {
  source: 'build' | 'offered' | 'none';
  rejected: boolean;
  /**
   * The target's executable is Node itself, which runs the script it is given: not a
   * single executable application (whose binary runs its own embedded program whatever
   * the arguments), not Electron or NW.js. Only then may the CLI run it to make a cache.
   */
  plain: boolean;
}

/** What the bootstrap expression answers. */
export type BootstrapReply =
  | { ok: true; pid: number; node: string; agent: AgentInfo; cache?: BootstrapCache }
  | { ok: false; pid: number; node: string };

/**
 * The bootstrap expression for an installed agent entry; evaluate it with awaitPromise.
 * `offeredCache` is the path of a code cache the CLI made for the target's executable
 * (agent-cache.ts), which the target reads only when the build has none for its V8 and
 * only when the file is private to its user (agent-loader.ts).
 */
export function bootstrapExpression(entry: AgentEntry, offeredCache?: string): string {
  const register = JSON.stringify(entry.register);
  const library = JSON.stringify(entry.library);
  const loader = entry.bundle === undefined ? undefined : JSON.stringify(join(dirname(entry.bundle), 'agent-loader.js'));
  const offer = offeredCache === undefined ? '' : `loader.offerAgentCache(${JSON.stringify(offeredCache)}); `;
  // A process that has the CommonJS entries loaded (a preload whose agent was stopped, a
  // require('livetrace')) keeps using that copy, as it did before the bundle existed.
  const start =
    entry.bundle === undefined
      ? `load(${register});
  const agent = await load(${library}).startAgent();`
      : `let cache;
  const agent = load.cache[${register}] === undefined && load.cache[${library}] === undefined
    ? await (() => { const loader = load(${loader}); ${offer}const started = load(${JSON.stringify(entry.bundle)}).startAgent(); cache = { ...loader.agentCacheState(), plain: plainNode() }; return started; })()
    : (load(${register}), await load(${library}).startAgent());`;
  const cache = entry.bundle === undefined ? '' : ', cache';
  const plainNode =
    entry.bundle === undefined
      ? ''
      : `
  const plainNode = () => {
    try {
      const versions = process.versions;
      return process.release.name === 'node' && versions.electron === undefined && versions.nw === undefined && process.getBuiltinModule('node:sea')?.isSea?.() === false;
    } catch {
      return false;
    }
  };`;
  return `(async () => {${plainNode}
  const node = process.versions.node;
  const [major, minor] = node.split('.').map(Number);
  if (major < ${minimumNode.major} || (major === ${minimumNode.major} && minor < ${minimumNode.minor})) {
    return { ok: false, pid: process.pid, node };
  }
  const load = process.getBuiltinModule('module').createRequire(${register});
  ${start}
  await new Promise((turned) => setImmediate(() => setImmediate(turned)));
  return { ok: true, pid: process.pid, node, agent${cache} };
})()`;
}

export function parseBootstrapReply(value: unknown): BootstrapReply {
  const reply = value as Partial<Record<string, unknown>> | undefined;
  if (typeof reply?.pid === 'number' && typeof reply.node === 'string') {
    if (reply.ok === false) return { ok: false, pid: reply.pid, node: reply.node };
    const agent = reply.agent as Partial<AgentInfo> | undefined;
    if (reply.ok === true && typeof agent?.listening === 'boolean') {
      const cache = reply.cache as Partial<BootstrapCache> | undefined;
      const known = (cache?.source === 'build' || cache?.source === 'offered' || cache?.source === 'none') && typeof cache.rejected === 'boolean';
      const parsed = known ? { cache: { source: cache.source!, rejected: cache.rejected!, plain: cache.plain === true } } : {};
      return { ok: true, pid: reply.pid, node: reply.node, agent: agent as AgentInfo, ...parsed };
    }
  }
  throw new LivetraceError('LT_ATTACH_FAILED', `unexpected answer from the bootstrap: ${JSON.stringify(value)}`);
}

/**
 * Closes the inspector inside the target, now and again after the event loop has turned
 * twice. Evaluated with the command-line API so that `require` exists on a Node too old
 * for process.getBuiltinModule (the refusal path).
 *
 * Why twice: SIGUSR1 asks the main thread to open the inspector two ways at once, a V8
 * interrupt (runs inside JavaScript that is busy, which is how we reach a target stuck in
 * a synchronous loop) and a libuv async handle (runs in the next poll phase). Whichever
 * comes first opens it; the other is a no-op while it is open, but reopens it if we have
 * closed it in between. The async request cannot be cancelled, so a close evaluated
 * inside a busy loop would be undone when the loop yields. The first setImmediate runs
 * after the next poll phase unless we are inside that poll phase, the second after the
 * one following: by then the request has been consumed, and whatever it reopened is
 * closed. The immediates are unref'd so they never keep the process alive.
 */
export const closeInspectorExpression =
  "(() => { const inspector = process.getBuiltinModule ? process.getBuiltinModule('inspector') : require('inspector'); " +
  'const again = () => { if (inspector.url() !== undefined) inspector.close(); }; ' +
  'setImmediate(() => { again(); setImmediate(again).unref(); }).unref(); ' +
  'inspector.close(); })()';

/** Asks the target for its pid, to be sure the inspector we reached is the target's. */
export const pidExpression = 'process.pid';
