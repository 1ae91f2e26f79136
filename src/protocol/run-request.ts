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
