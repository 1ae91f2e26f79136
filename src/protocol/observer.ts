/**
 * What the observer ops report (`livetrace info`, `get`, `top`): plain JSON shared by the
 * agent that measures and the CLI that renders. Figures "over the interval" cover the time
 * since the previous info request on the same connection; the first request of a
 * connection starts the sampling and has no interval yet (those fields are null).
 */
import type { Value } from './value.js';

/** One V8 heap space (v8.getHeapSpaceStatistics), bytes. */
export interface HeapSpaceInfo {
  name: string;
  used: number;
  size: number;
  available: number;
}

/** Garbage collections of one kind over the interval. */
export interface GcKindInfo {
  count: number;
  pauseMs: number;
}

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb' | 'other';

/** Event loop delay over the interval, ms (perf_hooks.monitorEventLoopDelay). */
export interface LoopDelayInfo {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** The sampling timer's period: an idle loop reads about this much. */
  resolutionMs: number;
}

export interface ProcessInfo {
  pid: number;
  node: string;
  argv: string[];
  execArgv: string[];
  /** NODE_OPTIONS as the process sees it, null when unset. */
  nodeOptions: string | null;
  uptimeMs: number;
  /** Length of the interval the interval figures cover; null on a connection's first request. */
  intervalMs: number | null;
  cpu: {
    /** CPU time since the process started, µs. */
    userUs: number;
    systemUs: number;
    /** User plus system CPU over the interval, % of one core. */
    percent: number | null;
  };
  memory: {
    rss: number;
    heapUsed: number;
    heapTotal: number;
    /** The heap's size limit (v8 heap_size_limit). */
    heapLimit: number;
    external: number;
    arrayBuffers: number;
    spaces: HeapSpaceInfo[];
  };
  /** Collections over the interval; null on a connection's first request. */
  gc: { count: number; pauseMs: number; byKind: Partial<Record<GcKind, GcKindInfo>> } | null;
  loop: {
    /** Share of the interval the loop was busy, 0..1 (performance.eventLoopUtilization). */
    utilization: number | null;
    delay: LoopDelayInfo | null;
  };
  /** process.getActiveResourcesInfo() counted by type ('Timeout', 'TCPSocketWrap', ...). */
  resources: Record<string, number>;
  modules: {
    /** Files in the CommonJS cache. */
    cjs: number;
    /** ES modules the agent knows of (all of them with the preload; only the ES main module without). */
    esm: number;
    /** Distinct packages (node_modules) among them. */
    packages: string[];
  };
  /** livetrace sessions running in the process, whoever started them. */
  sessions: number;
  /**
   * The application's worker threads (livetrace's own left out), each with its own event
   * loop utilization; null in a light info, or when the inspector could not list them.
   */
  workers: WorkerThreadInfo[] | null;
  /** CPU the agent spent answering this request, µs (user + system, all threads). */
  costUs: number;
}

/** One worker thread (`livetrace info`). */
export interface WorkerThreadInfo {
  threadId: number;
  /** The inspector's title ('[worker 1]', or the worker's name). */
  title: string;
  url: string;
  /**
   * Share of time the worker's loop was busy, 0..1: over the interval when this connection
   * read the worker before, else since the worker started (`sinceStart`). Null when the
   * worker did not answer within 500 ms (a loop blocked in Atomics.wait): only a worker
   * started before the agent loaded is asked that way; the others are read from the main
   * thread (docs/observer.md).
   */
  utilization: number | null;
  sinceStart: boolean;
}

/** The live value at a path (`livetrace get`). */
export interface GetResult {
  /** The path as resolved: 'src/cache.js:store.entries'. */
  path: string;
  module: string;
  value: Value;
  truncated: boolean;
  /**
   * With --instances: how many live objects have the class's prototype (the value then shows
   * the first few). Counting runs a full garbage collection first (`fullGc`).
   */
  instances?: { count: number; fullGc: true };
}

/** What one shell evaluation gave (`livetrace shell`). */
export interface EvalResult {
  /** The completion value, or what the expression threw, captured with the trace bounds. */
  value: Value;
  thrown: boolean;
  truncated: boolean;
  /** Wall time of the evaluation in the target, ms. */
  ms: number;
}

/** What can follow a shell line: readline's [names, prefix]. */
export interface Completion {
  /** The partial word at the end of the line that each name completes. */
  prefix: string;
  /** Whole words starting with `prefix`, sorted, at most 1000. */
  names: string[];
}
