/**
 * Where this copy of livetrace is installed, and the entry files a target loads: the
 * CLI names them to a target it attaches to or starts, and the preload finds its ESM
 * loader hooks through them.
 *
 * The package is found from this module's own file, read from a raw V8 call site: the
 * same source compiles to dist/esm and dist/cjs (so no import.meta, no __filename), and
 * source-map-support rewrites formatted stacks to point at src/, so we bypass formatting.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LivetraceError } from './errors.js';

export interface AgentEntry {
  /** The livetrace package root (the directory of its package.json). */
  root: string;
  /** dist/cjs/register.js: loading it starts the agent. */
  register: string;
  /** dist/cjs/index.js: the library, whose startAgent() describes the running agent. */
  library: string;
  /**
   * When the build made it (scripts/build.mjs, with esbuild): dist/cjs/agent.js, whose
   * loading runs dist/cjs/agent.bundle.js, the preload's main-thread part and
   * startAgent() in one file, with the V8 code cache the build made for it
   * (src/agent-loader.ts); an attach loads it instead of the two entries above
   * (src/attach-main.ts says why).
   */
  bundle?: string;
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
    register: join(root, 'dist', 'cjs', 'register.js'),
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
  const bundle = join(root, 'dist', 'cjs', 'agent.js');
  if (existsSync(bundle)) entry.bundle = bundle;
  cached = entry;
  return entry;
}

let rootCached: string | null | undefined;

/**
 * The livetrace package root, built or not; undefined when it can't be told (a bundle).
 * The agent keeps modules only livetrace loaded (its own dependencies) out of listings
 * and traces by it.
 */
export function livetraceRoot(): string | undefined {
  if (rootCached === undefined) {
    try {
      rootCached = packageRoot(ownFile());
    } catch {
      rootCached = null;
    }
  }
  return rootCached ?? undefined;
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

