/**
 * The library: trace functions of this process (docs/api.md). The client for other
 * processes' agents is the subpath `livetrace/client`.
 */
import { trace as startSession, activeSessions as sessions } from './agent/session/session.js';
import type { TraceSession } from './agent/session/trace-session.js';
import type { TraceOptions } from './protocol/options.js';
import { installFleetJoiner } from './fleet/joiner.js';

export { LivetraceError } from './protocol/errors.js';
export type { ErrorCode, ErrorRecord } from './protocol/errors.js';
export type * from './protocol/events.js';
export { startAgent, stopAgent } from './agent/agent.js';
export type { AgentInfo, AgentOptions } from './agent/agent.js';
export type { TraceSession } from './agent/session/trace-session.js';
export type { TraceOptions, OptionSpec, OptionName, OptionKind } from './protocol/options.js';
export { OPTIONS } from './protocol/options.js';
export { parsePattern, compilePattern, explainPattern, printPattern } from './pattern/index.js';
export type { PatternAst } from './pattern/ast.js';

// An agent the library started (startAgent) can join a fleet on request too (`attach --fleet`).
installFleetJoiner();

/** Starts a session in this process. Throws LivetraceError for a bad pattern or option, or a pattern that matches nothing. */
export function trace(patterns: string | string[], options: TraceOptions = {}): TraceSession {
  return startSession(patterns, options);
}

/** The sessions running in this process, whoever started them. */
export function activeSessions(): TraceSession[] {
  return sessions();
}
