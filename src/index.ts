export { LivetraceError } from './protocol/errors.js';
export type { ErrorCode, ErrorRecord } from './protocol/errors.js';
export type * from './protocol/events.js';
export { startAgent, stopAgent } from './agent/agent.js';
export type { AgentInfo, AgentOptions } from './agent/agent.js';
export { trace, activeSessions, Session } from './agent/session/session.js';
export type { TraceOptions } from './protocol/options.js';
export { parsePattern, compilePattern, explainPattern, printPattern } from './pattern/index.js';
export type { PatternAst } from './pattern/ast.js';
