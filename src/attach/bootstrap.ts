/**
 * The only code livetrace ever evaluates in a target: one fixed expression that loads
 * the agent, and one that closes the inspector.
 *
 * The bootstrap checks the Node version first (it must not touch
 * process.getBuiltinModule on a Node that lacks it), then loads the agent's CommonJS
 * preload entry with `createRequire`, which works the same whether the app is ESM or
 * CJS. It then awaits the library's idempotent startAgent(), which resolves to the
 * running agent's description: the socket it listens on, computed in the target's own
 * environment (which may differ from the CLI's: another XDG_RUNTIME_DIR or
 * LIVETRACE_SOCKET_DIR), or the coded reason it could not listen. The only variable parts
 * are absolute paths inside the installed livetrace package, embedded with
 * JSON.stringify; nothing the user typed goes in.
 *
 * The package is found from this module's own file, read from a raw V8 call site: the
 * same source compiles to dist/esm and dist/cjs (so no import.meta, no __filename), and
 * source-map-support rewrites formatted stacks to point at src/, so we bypass formatting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentInfo } from '../agent/agent.js';
import { LivetraceError } from '../protocol/errors.js';

export interface AgentEntry {
  /** The livetrace package root (the directory of its package.json). */
  root: string;
  /** dist/cjs/loader/register.js: loading it starts the agent. */
  register: string;
  /** dist/cjs/index.js: the library, whose startAgent() describes the running agent. */
  library: string;
}

/** The Node version the agent needs; older targets are refused before anything loads. */
export const minimumNode = { major: 20, minor: 19 } as const;

let cached: AgentEntry | undefined;

/** Locates the installed agent entry; fails with LT_ATTACH_FAILED when it is not built. */
export function agentEntry(): AgentEntry {
  if (cached) return cached;
  const root = packageRoot(ownFile());
  const entry: AgentEntry = {
    root,
    register: join(root, 'dist', 'cjs', 'loader', 'register.js'),
    library: join(root, 'dist', 'cjs', 'index.js'),
  };
  for (const file of [entry.register, entry.library]) {
    if (!existsSync(file)) {
      throw new LivetraceError('LT_ATTACH_FAILED', `the livetrace agent is not built: ${file} is missing`, {
        input: file,
        hint: "Run 'npm run build' in the livetrace package.",
      });
    }
  }
  cached = entry;
  return entry;
}

function ownFile(): string {
  const saved = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
  let sites: unknown;
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder);
    // Formatting is lazy: read the stack while our prepareStackTrace is in place.
    sites = holder.stack;
  } finally {
    Error.prepareStackTrace = saved.prepare;
    Error.stackTraceLimit = saved.limit;
  }
  const site = Array.isArray(sites) ? (sites[0] as NodeJS.CallSite | undefined) : undefined;
  const file = site?.getFileName();
  if (!file) throw new LivetraceError('LT_INTERNAL', 'cannot tell where the livetrace package is installed');
  return file.startsWith('file:') ? fileURLToPath(file) : file;
}

function packageRoot(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'livetrace') return dir;
      } catch {
        // an unreadable manifest on the way up is not ours; keep climbing
      }
    }
    if (dirname(dir) === dir) {
      throw new LivetraceError('LT_INTERNAL', `cannot find the livetrace package above ${file}`);
    }
  }
}

/** What the bootstrap expression answers. */
export type BootstrapReply =
  | { ok: true; pid: number; node: string; agent: AgentInfo }
  | { ok: false; pid: number; node: string };

/** The bootstrap expression for an installed agent entry; evaluate it with awaitPromise. */
export function bootstrapExpression(entry: AgentEntry): string {
  const register = JSON.stringify(entry.register);
  const library = JSON.stringify(entry.library);
  return `(async () => {
  const node = process.versions.node;
  const [major, minor] = node.split('.').map(Number);
  if (major < ${minimumNode.major} || (major === ${minimumNode.major} && minor < ${minimumNode.minor})) {
    return { ok: false, pid: process.pid, node };
  }
  const load = process.getBuiltinModule('module').createRequire(${register});
  load(${register});
  const agent = await load(${library}).startAgent();
  return { ok: true, pid: process.pid, node, agent };
})()`;
}

export function parseBootstrapReply(value: unknown): BootstrapReply {
  const reply = value as Partial<Record<string, unknown>> | undefined;
  if (typeof reply?.pid === 'number' && typeof reply.node === 'string') {
    if (reply.ok === false) return { ok: false, pid: reply.pid, node: reply.node };
    const agent = reply.agent as Partial<AgentInfo> | undefined;
    if (reply.ok === true && typeof agent?.listening === 'boolean') {
      return { ok: true, pid: reply.pid, node: reply.node, agent: agent as AgentInfo };
    }
  }
  throw new LivetraceError('LT_ATTACH_FAILED', `unexpected answer from the bootstrap: ${JSON.stringify(value)}`);
}

/**
 * Closes the inspector inside the target. Evaluated with the command-line API so that
 * `require` exists on a Node too old for process.getBuiltinModule (the refusal path).
 */
export const closeInspectorExpression =
  "(process.getBuiltinModule ? process.getBuiltinModule('inspector') : require('inspector')).close()";

/** Asks the target for its pid, to be sure the inspector we reached is the target's. */
export const pidExpression = 'process.pid';
