/**
 * What `livetrace run` hands the program it starts: the session to pre-start before the
 * program's first line (src/agent/session/run-session.ts reads it; src/cli/run.ts writes it).
 */
import type { TraceOptions } from './options.js';

/** The environment variable the CLI passes the session in. */
export const RUN_ENV = 'LIVETRACE_RUN';

/** What LIVETRACE_RUN holds. */
export interface RunRequest {
  token: string;
  patterns: string[];
  options?: TraceOptions;
}

/**
 * Records a run session could not send before its process exited (it was busy until
 * `process.exit()`, so the CLI could not claim it or read it to its end) are written by
 * the agent, in its 'exit' listener, to a file in the socket directory, one record per
 * line; the CLI of that run reads and removes it (src/agent/session/run-session.ts,
 * src/cli/run.ts). The name carries a digest of the run's token, so a CLI only picks up
 * its own run's files, and the writer's pid.
 */
export function runSpoolPrefix(token: string): string {
  // node:crypto loaded here, when a run needs it: an attached process that never ran
  // under `livetrace run` does not load it (8-10 ms of its thread, branch attach8).
  const { createHash } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  return `run-${createHash('sha256').update(token).digest('hex').slice(0, 16)}-`;
}

export function runSpoolName(prefix: string, pid: number): string {
  return `${prefix}${pid}.ndjson`;
}

/** The writer's pid of a spool file of this run, or undefined for any other file. */
export function pidOfRunSpool(prefix: string, fileName: string): number | undefined {
  if (!fileName.startsWith(prefix) || !fileName.endsWith('.ndjson')) return undefined;
  const pid = Number(fileName.slice(prefix.length, -'.ndjson'.length));
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
